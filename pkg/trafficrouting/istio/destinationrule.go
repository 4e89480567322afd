package istio

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// planDestinationRule points the canary and stable subsets (and experiment
// subsets) at their pod template hashes and marks the rule as managed by
// the Rollout. As in Argo Rollouts, subsets that are neither stable, canary
// nor a running experiment's are dropped, except those the Rollout lists in
// additionalSubsetNames. moves reports whether the canary subset changes
// the pods it selects.
func planDestinationRule(obj *unstructured.Unstructured, rollout string, dr *v1alpha1.IstioDestinationRule, d trafficrouting.Desired) (out *unstructured.Unstructured, moves bool) {
	out = obj.DeepCopy()
	ann := out.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[v1alpha1.AnnotationManagedByRollouts] = rollout
	out.SetAnnotations(ann)

	spec, ok := out.Object["spec"].(map[string]any)
	if !ok {
		spec = map[string]any{}
		out.Object["spec"] = spec
	}
	subsets, _ := spec["subsets"].([]any)
	var experiments []string
	hashOf := map[string]string{}
	for _, a := range d.Additional {
		experiments = append(experiments, a.ServiceName)
		hashOf[a.ServiceName] = a.PodTemplateHash
	}
	kept := make([]any, 0, len(subsets)+len(experiments))
	for _, raw := range subsets {
		m, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		switch {
		case name == dr.CanarySubsetName:
			moves = labelHash(m) != d.CanaryHash
			setHash(m, d.CanaryHash)
		case name == dr.StableSubsetName:
			setHash(m, d.StableHash)
		case slices.Contains(experiments, name):
			setHash(m, hashOf[name])
			experiments = slices.DeleteFunc(experiments, func(e string) bool { return e == name })
		case slices.Contains(dr.AdditionalSubsetNames, name):
		default:
			continue
		}
		kept = append(kept, m)
	}
	for _, name := range experiments {
		kept = append(kept, map[string]any{
			"name":   name,
			"labels": map[string]any{v1alpha1.LabelPodTemplateHash: hashOf[name]},
		})
	}
	spec["subsets"] = kept
	return out, moves
}

func labelHash(subset map[string]any) string {
	labels, _ := subset["labels"].(map[string]any)
	h, _ := labels[v1alpha1.LabelPodTemplateHash].(string)
	return h
}

// setHash sets the pod template hash label, or removes it for no hash.
func setHash(subset map[string]any, hash string) {
	labels, _ := subset["labels"].(map[string]any)
	if hash == "" {
		if labels != nil {
			delete(labels, v1alpha1.LabelPodTemplateHash)
		}
		return
	}
	if labels == nil {
		labels = map[string]any{}
		subset["labels"] = labels
	}
	labels[v1alpha1.LabelPodTemplateHash] = hash
}

// subsetHash reads the hash a named subset of a DestinationRule selects.
func subsetHash(obj *unstructured.Unstructured, name string) string {
	subsets, _, _ := unstructured.NestedSlice(obj.Object, "spec", "subsets")
	for _, raw := range subsets {
		if m, ok := raw.(map[string]any); ok && m["name"] == name {
			return labelHash(m)
		}
	}
	return ""
}

package istio

import (
	"encoding/json"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// AnnotationManagedRoutes records on a VirtualService the header and mirror
// routes each Rollout installed in it, as a JSON object from the Rollout's
// "namespace/name" to the route names. Argo Rollouts keeps no such record;
// Serin needs one to take those routes out again once the Rollout is
// deleted or stops routing through the VirtualService, even when that
// happened while the controller was down.
const AnnotationManagedRoutes = "serin.dev/managed-routes"

// maxRecordedRoutes bounds what is read back from the annotation, which
// users can write too.
const maxRecordedRoutes = 64

// RecordedRoutes reads the managed-routes record of a VirtualService. A
// record that does not parse is treated as empty.
func RecordedRoutes(obj *unstructured.Unstructured) map[string][]string {
	raw, ok := obj.GetAnnotations()[AnnotationManagedRoutes]
	if !ok {
		return nil
	}
	rec := map[string][]string{}
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return nil
	}
	for k, names := range rec {
		if len(names) > maxRecordedRoutes {
			rec[k] = names[:maxRecordedRoutes]
		}
	}
	return rec
}

// recordRoutes sets the Rollout's entry of the record to names, removing
// the entry when there are none and the annotation when no entry is left.
func recordRoutes(obj *unstructured.Unstructured, rollout string, names []string) {
	rec := RecordedRoutes(obj)
	if len(names) == 0 {
		if _, ok := rec[rollout]; !ok {
			return
		}
		delete(rec, rollout)
	} else {
		if rec == nil {
			rec = map[string][]string{}
		}
		rec[rollout] = slices.Clone(names)
	}
	ann := obj.GetAnnotations()
	if len(rec) == 0 {
		delete(ann, AnnotationManagedRoutes)
	} else {
		data, _ := json.Marshal(rec) // a map of strings always marshals
		if ann == nil {
			ann = map[string]string{}
		}
		ann[AnnotationManagedRoutes] = string(data)
	}
	setAnnotations(obj, ann)
}

// setAnnotations sets the annotations, leaving no empty map behind.
func setAnnotations(obj *unstructured.Unstructured, ann map[string]string) {
	if len(ann) == 0 {
		unstructured.RemoveNestedField(obj.Object, "metadata", "annotations")
		return
	}
	obj.SetAnnotations(ann)
}

// RolloutKey names a Rollout in the managed-routes record.
func RolloutKey(namespace, name string) string { return namespace + "/" + name }

// ReleaseVirtualService returns a copy of obj without the HTTP routes the
// given Rollouts recorded and without their entries in the record, and
// whether anything changed. Routes the user named alike but the record does
// not hold are kept.
func ReleaseVirtualService(obj *unstructured.Unstructured, rollouts []string) (*unstructured.Unstructured, bool) {
	rec := RecordedRoutes(obj)
	var drop []string
	for _, r := range rollouts {
		drop = append(drop, rec[r]...)
	}
	out := obj.DeepCopy()
	changed := false
	if routes, ok, _ := unstructured.NestedSlice(out.Object, "spec", "http"); ok {
		kept := slices.DeleteFunc(slices.Clone(routes), func(rt any) bool {
			return slices.Contains(drop, routeName(rt))
		})
		if len(kept) != len(routes) {
			changed = true
			_ = unstructured.SetNestedSlice(out.Object, kept, "spec", "http")
		}
	}
	sort.Strings(rollouts)
	for _, r := range rollouts {
		if _, ok := rec[r]; ok {
			recordRoutes(out, r, nil)
			changed = true
		}
	}
	return out, changed
}

// ReleaseDestinationRule returns a copy of obj with the pod template hash
// labels of its subsets and the managed-by-rollouts annotation removed, so
// the subsets select the app's pods of every revision again, and whether
// anything changed.
func ReleaseDestinationRule(obj *unstructured.Unstructured) (*unstructured.Unstructured, bool) {
	out := obj.DeepCopy()
	changed := false
	ann := out.GetAnnotations()
	if _, ok := ann[v1alpha1.AnnotationManagedByRollouts]; ok {
		delete(ann, v1alpha1.AnnotationManagedByRollouts)
		setAnnotations(out, ann)
		changed = true
	}
	subsets, _, _ := unstructured.NestedSlice(out.Object, "spec", "subsets")
	for _, raw := range subsets {
		m, ok := raw.(map[string]any)
		if !ok || labelHash(m) == "" {
			continue
		}
		setHash(m, "")
		if labels, _ := m["labels"].(map[string]any); len(labels) == 0 {
			delete(m, "labels")
		}
		changed = true
	}
	if changed && subsets != nil {
		_ = unstructured.SetNestedSlice(out.Object, subsets, "spec", "subsets")
	}
	return out, changed
}

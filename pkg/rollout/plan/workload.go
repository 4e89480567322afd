package plan

import (
	"encoding/json"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// workloadKind describes where a kind that spec.workloadRef may name keeps
// its pod template and selector.
type workloadKind struct {
	Resource     schema.GroupVersionResource
	TemplatePath []string
	SelectorPath []string
}

// WorkloadKinds are the kinds spec.workloadRef may name, by group and kind.
var WorkloadKinds = map[schema.GroupKind]workloadKind{
	{Group: "apps", Kind: "Deployment"}: {
		Resource:     schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
		TemplatePath: []string{"spec", "template"}, SelectorPath: []string{"spec", "selector"},
	},
	{Group: "apps", Kind: "ReplicaSet"}: {
		Resource:     schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"},
		TemplatePath: []string{"spec", "template"}, SelectorPath: []string{"spec", "selector"},
	},
	{Group: "", Kind: "PodTemplate"}: {
		Resource:     schema.GroupVersionResource{Version: "v1", Resource: "podtemplates"},
		TemplatePath: []string{"template"},
	},
}

// WorkloadResource is the resource spec.workloadRef names, if it names a
// supported kind.
func WorkloadResource(ref *v1alpha1.ObjectRef) (schema.GroupVersionResource, bool) {
	if ref == nil {
		return schema.GroupVersionResource{}, false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return schema.GroupVersionResource{}, false
	}
	k, ok := WorkloadKinds[schema.GroupKind{Group: gv.Group, Kind: ref.Kind}]
	return k.Resource, ok
}

// resolveWorkload returns the Rollout with the pod template (and, when it has
// none, the selector) of the workload its spec.workloadRef names. The
// Rollout in the API keeps its empty template; only the plan sees this copy.
func resolveWorkload(ro *v1alpha1.Rollout, workload *unstructured.Unstructured) (*v1alpha1.Rollout, *field.Error) {
	ref := ro.Spec.WorkloadRef
	path := field.NewPath("spec", "workloadRef")
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, field.Invalid(path.Child("apiVersion"), ref.APIVersion, err.Error())
	}
	kind, ok := WorkloadKinds[schema.GroupKind{Group: gv.Group, Kind: ref.Kind}]
	if !ok {
		return nil, field.Invalid(path.Child("kind"), ref.Kind, fmt.Sprintf("workload of type %s/%s is not supported", gv.Group, ref.Kind))
	}
	if workload == nil {
		return nil, field.Invalid(path.Child("name"), ref.Name, fmt.Sprintf("%s %q not found", ref.Kind, ref.Name))
	}
	out := ro.DeepCopy()
	if raw, found, _ := unstructured.NestedMap(workload.Object, kind.TemplatePath...); found {
		var t corev1.PodTemplateSpec
		if err := remarshal(raw, &t); err != nil {
			return nil, field.Invalid(path.Child("name"), ref.Name, "reading its pod template: "+err.Error())
		}
		out.Spec.Template = t
	}
	if out.Spec.Selector == nil && kind.SelectorPath != nil {
		if raw, found, _ := unstructured.NestedMap(workload.Object, kind.SelectorPath...); found {
			var sel metav1.LabelSelector
			if err := remarshal(raw, &sel); err != nil {
				return nil, field.Invalid(path.Child("name"), ref.Name, "reading its selector: "+err.Error())
			}
			out.Spec.Selector = &sel
		}
	}
	return out, nil
}

func remarshal(in map[string]any, out any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

// syncWorkloadGeneration records the referenced workload's generation on the
// Rollout (annotation) and in its status, so tools can tell whether a change
// to the workload was observed.
func (p *planner) syncWorkloadGeneration(s *v1alpha1.RolloutStatus) {
	if p.ro.Spec.WorkloadRef == nil || p.st.Workload == nil {
		s.WorkloadObservedGeneration = ""
		return
	}
	generation := strconv.FormatInt(p.st.Workload.GetGeneration(), 10)
	if p.ro.Annotations[v1alpha1.AnnotationWorkloadGeneration] != generation {
		p.plan.WorkloadGeneration = generation
	}
	s.WorkloadObservedGeneration = generation
}

// scaleDownWorkload scales a referenced Deployment down as spec.workloadRef.scaleDown
// asks, while the Rollout takes over its first revision: all at once once the
// Rollout is healthy (onsuccess), or as the Rollout's pods become ready
// (progressively).
func (p *planner) scaleDownWorkload() {
	ref := p.ro.Spec.WorkloadRef
	if ref == nil || ref.Kind != "Deployment" || p.st.Workload == nil || p.revs.newRS == nil {
		return
	}
	if revisionOf(p.revs.newRS.Annotations) != 1 {
		return
	}
	current, _, _ := unstructured.NestedInt64(p.st.Workload.Object, "spec", "replicas")
	healthyNow := p.ro.Status.Phase == v1alpha1.RolloutPhaseHealthy
	want := int32(current)
	switch ref.ScaleDown {
	case v1alpha1.ScaleDownOnSuccess:
		if healthyNow {
			want = 0
		}
	case v1alpha1.ScaleDownProgressively:
		if healthyNow {
			want = 0
		} else if p.ro.Spec.Replicas != nil && p.ro.Status.ReadyReplicas > 0 {
			want = max(0, *p.ro.Spec.Replicas-p.ro.Status.ReadyReplicas)
		}
	default:
		return
	}
	if int64(want) != current {
		p.plan.WorkloadReplicas = &want
	}
}

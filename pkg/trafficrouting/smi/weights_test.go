package smi

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// The split the TrafficSplit carries, read back for the tests' assertions.

// weightsOf reads the backends of the TrafficSplit.
func weightsOf(tr trafficrouting.Router, ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (*v1alpha1.TrafficWeights, error) {
	r := tr.(*Router)
	cfg := config(ro)
	if cfg == nil {
		return nil, nil
	}
	ref := r.ref(ro, cfg)
	ts := observed[ref]
	if ts == nil {
		return nil, fmt.Errorf("TrafficSplit %q not found", ref.Namespace+"/"+ref.Name)
	}
	tw := &v1alpha1.TrafficWeights{
		Canary: v1alpha1.WeightDestination{ServiceName: d.CanaryService, PodTemplateHash: d.CanaryHash},
		Stable: v1alpha1.WeightDestination{ServiceName: d.StableService, PodTemplateHash: d.StableHash},
	}
	backends, _, _ := unstructured.NestedSlice(ts.Object, "spec", "backends")
	for _, raw := range backends {
		b, _ := raw.(map[string]any)
		svc, _ := b["service"].(string)
		w, _ := readWeight(b["weight"])
		switch svc {
		case d.CanaryService:
			tw.Canary.Weight = int32(w)
		case d.StableService:
			tw.Stable.Weight = int32(w)
		default:
			for _, a := range d.Additional {
				if a.ServiceName == svc {
					tw.Additional = append(tw.Additional, v1alpha1.WeightDestination{Weight: int32(w), ServiceName: svc, PodTemplateHash: a.PodTemplateHash})
				}
			}
		}
	}
	return tw, nil
}

package gatewayapi

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// The split a route carries, read back for the tests' assertions.

// weightsOf reads the weights of the first rule of the first route that
// sends to the canary; an unset weight counts as 1, the Gateway API default.
func weightsOf(tr trafficrouting.Router, ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (*v1alpha1.TrafficWeights, error) {
	r := tr.(*Router)
	cfg, err := parse(ro)
	if err != nil || cfg == nil {
		return nil, err
	}
	p := &planner{cfg: cfg, d: d, managed: trafficrouting.ManagedRouteNames(ro)}
	t := targets(cfg)[0]
	ref := r.ref(cfg, t)
	obj := observed[ref]
	if obj == nil {
		return nil, fmt.Errorf("%s %q not found", t.kind.name, ref.Namespace+"/"+ref.Name)
	}
	rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "rules")
	for _, raw := range rules {
		rule, _ := raw.(map[string]any)
		if t.kind.headers && p.isManagedRule(rule) {
			continue
		}
		canary, stable, found := int64(0), int64(0), false
		for _, b := range backendRefs(rule) {
			w, ok := trafficrouting.Int(b["weight"])
			if !ok {
				w = 1
			}
			switch b["name"] {
			case d.CanaryService:
				canary, found = w, true
			case d.StableService:
				stable = w
			}
		}
		if found {
			return &v1alpha1.TrafficWeights{
				Canary: v1alpha1.WeightDestination{Weight: int32(canary), ServiceName: d.CanaryService, PodTemplateHash: d.CanaryHash},
				Stable: v1alpha1.WeightDestination{Weight: int32(stable), ServiceName: d.StableService, PodTemplateHash: d.StableHash},
			}, nil
		}
	}
	return nil, fmt.Errorf("%s %q has no rule sending to Service %q", t.kind.name, ref.Namespace+"/"+ref.Name, d.CanaryService)
}

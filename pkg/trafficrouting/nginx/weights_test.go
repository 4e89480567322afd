package nginx

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// The split the canary Ingress carries, read back for the tests' assertions.

// weightsOf reads the canary weight of the first canary Ingress; none means 0.
func weightsOf(tr trafficrouting.Router, ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (*v1alpha1.TrafficWeights, error) {
	r := tr.(*Router)
	cfg := config(ro)
	if cfg == nil {
		return nil, nil
	}
	names := stableIngresses(cfg)
	if len(names) == 0 {
		return nil, fmt.Errorf("no stable Ingress configured")
	}
	if observed[r.ref(ro.Namespace, names[0])] == nil {
		return nil, fmt.Errorf("stable Ingress %q not found", ro.Namespace+"/"+names[0])
	}
	var canary int64
	if c := observed[r.ref(ro.Namespace, CanaryIngressName(ro.Name, names[0]))]; c != nil {
		if v := strings.TrimSpace(c.GetAnnotations()[prefix(cfg)+"/canary-weight"]); v != "" {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("canary Ingress %q has canary-weight %q: %v", c.GetName(), v, err)
			}
			canary = n
		}
	}
	stable := int64(d.Max()) - canary
	return &v1alpha1.TrafficWeights{
		Canary: v1alpha1.WeightDestination{Weight: int32(canary), ServiceName: d.CanaryService, PodTemplateHash: d.CanaryHash},
		Stable: v1alpha1.WeightDestination{Weight: int32(max(stable, 0)), ServiceName: d.StableService, PodTemplateHash: d.StableHash},
	}, nil
}

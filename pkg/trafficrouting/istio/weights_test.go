package istio

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// The split a VirtualService carries, read back for the tests' assertions.

// weightsOf reads the split from the first route the first VirtualService
// splits, and the pod template hashes from the DestinationRule if any.
func weightsOf(tr trafficrouting.Router, ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (*v1alpha1.TrafficWeights, error) {
	r := tr.(*Router)
	cfg := config(ro)
	if cfg == nil {
		return nil, nil
	}
	vss := virtualServices(cfg)
	if len(vss) == 0 {
		return nil, fmt.Errorf("no VirtualService configured")
	}
	s := &split{d: d, dr: cfg.DestinationRule, managed: trafficrouting.ManagedRouteNames(ro)}
	ref := r.vsRef(ro, vss[0].Name)
	obj := observed[ref]
	if obj == nil {
		return nil, fmt.Errorf("VirtualService %s not found", refString(ref))
	}
	s.vsName = refString(ref)
	tw, err := s.read(obj, vss[0])
	if err != nil {
		return nil, err
	}
	if s.dr != nil {
		if dr := observed[r.drRef(ro, s.dr.Name)]; dr != nil {
			tw.Canary.PodTemplateHash = subsetHash(dr, s.dr.CanarySubsetName)
			tw.Stable.PodTemplateHash = subsetHash(dr, s.dr.StableSubsetName)
		}
	}
	return tw, nil
}

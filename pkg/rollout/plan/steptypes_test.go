package plan

import (
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// As in Argo Rollouts, only setWeight, pause, experiment and analysis
// exclude each other within a step: Argo Rollouts' APISIX example opens
// with a step that sets the canary scale and a header route together.
func TestStepTypesThatMayShareAStep(t *testing.T) {
	one := int32(1)
	twenty := int32(20)
	header := &v1alpha1.SetHeaderRoute{Name: "set-header", Match: []v1alpha1.HeaderRoutingMatch{
		{HeaderName: "trace", HeaderValue: &v1alpha1.StringMatch{Exact: "debug"}}}}
	for name, tc := range map[string]struct {
		step    v1alpha1.CanaryStep
		invalid bool
	}{
		"scale and header route": {v1alpha1.CanaryStep{SetCanaryScale: &v1alpha1.SetCanaryScale{Replicas: &one}, SetHeaderRoute: header}, false},
		"weight and pause":       {v1alpha1.CanaryStep{SetWeight: &twenty, Pause: &v1alpha1.RolloutPause{}}, true},
		"weight and analysis":    {v1alpha1.CanaryStep{SetWeight: &twenty, Analysis: &v1alpha1.RolloutAnalysis{}}, true},
	} {
		t.Run(name, func(t *testing.T) {
			ro := canaryRollout(tc.step)
			ro.Spec.Strategy.Canary.TrafficRouting = &v1alpha1.RolloutTrafficRouting{
				ManagedRoutes: []v1alpha1.ManagedRoute{{Name: "set-header"}},
				Apisix:        &v1alpha1.ApisixTrafficRouting{Route: &v1alpha1.ApisixRoute{Name: "route"}},
			}
			var stepErrs []string
			for _, err := range Validate(ro) {
				if strings.Contains(err.Error(), "Step must have one of") {
					stepErrs = append(stepErrs, err.Error())
				}
			}
			if tc.invalid != (len(stepErrs) > 0) {
				t.Fatalf("step errors %v, want invalid=%v", stepErrs, tc.invalid)
			}
		})
	}
}

package gates

import (
	"testing"
	"time"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// `kubectl argo rollouts abort` on a Rollout with nothing to abort leaves it
// Healthy (Argo CD must not show a healthy app as Degraded).
func TestAbortingAHealthyRolloutLeavesItHealthy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, manifest string
		services       []string
	}{
		{"canary", canary, []string{"shop-stable", "shop-canary"}},
		{"blue-green", blueGreen, []string{"shop-active", "shop-preview"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := framework.New(t)
			for _, s := range c.services {
				f.Service(s, "shop")
			}
			r := f.Rollout(c.manifest)
			r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
			stable := r.Get().Status.StableRS
			r.Abort()
			r.WaitFor("the abort removed", func(ro *v1alpha1.Rollout) bool { return !ro.Status.Abort && ro.Status.AbortedAt == nil })
			r.Consistently("Healthy on the same revision", 2*time.Second, func(ro *v1alpha1.Rollout) bool {
				return ro.Status.Phase == v1alpha1.RolloutPhaseHealthy && ro.Status.StableRS == stable && !ro.Status.Abort
			})
		})
	}
}

package rolloutstatus

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestVerdicts(t *testing.T) {
	for name, tc := range map[string]struct {
		status   v1alpha1.RolloutStatus
		gen      int64
		final    bool
		exitCode int
	}{
		"healthy":           {v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutPhaseHealthy, ObservedGeneration: "2"}, 2, true, ExitHealthy},
		"degraded":          {v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutPhaseDegraded, ObservedGeneration: "2"}, 2, true, ExitDegraded},
		"aborted":           {v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutPhaseDegraded, Abort: true, ObservedGeneration: "2"}, 2, true, ExitAborted},
		"paused":            {v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutPhasePaused, ObservedGeneration: "2"}, 2, false, ExitPaused},
		"progressing":       {v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutPhaseProgressing, ObservedGeneration: "2"}, 2, false, ExitProgressing},
		"healthy but stale": {v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutPhaseHealthy, ObservedGeneration: "1"}, 2, false, ExitProgressing},
		"never reconciled":  {v1alpha1.RolloutStatus{}, 1, false, ExitProgressing},
	} {
		ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "r", Generation: tc.gen}, Status: tc.status}
		v := Of(ro)
		if v.Final != tc.final || v.ExitCode != tc.exitCode {
			t.Errorf("%s: verdict = %+v, want final %v exit %d", name, v, tc.final, tc.exitCode)
		}
	}
}

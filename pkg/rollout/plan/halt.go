package plan

// Halting: what stops a Rollout's ReplicaSets from being resized, for both
// strategies.
import "github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"

// halted tells why ReplicaSets must not be resized now, if they must not.
func (p *planner) halted() string {
	if p.ro.Spec.Paused {
		return "manually paused"
	}
	for _, c := range p.ro.Status.PauseConditions {
		if c.Reason == v1alpha1.PauseReasonInconclusiveAnalysis {
			return "inconclusive analysis"
		}
	}
	return ""
}

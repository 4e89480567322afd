package plan

// Promotion: making the desired revision the stable one, for both strategies.
import (
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// promoteWithEvent makes the desired revision the stable one.
func (p *planner) promoteWithEvent(s *v1alpha1.RolloutStatus, reason string) {
	p.pause.clearAll()
	p.pause.removeAbort()
	s.PromoteFull = false
	if count := p.steps.count(); count > 0 {
		s.CurrentStepIndex = int32Ptr(count)
	} else {
		s.CurrentStepIndex = nil
	}
	if s.StableRS != s.CurrentPodHash {
		s.StableRS = s.CurrentPodHash
		revision := revisionOf(p.revs.newRS.Annotations)
		p.event(false, v1alpha1.EventRolloutCompleted, fmt.Sprintf(v1alpha1.MessageRolloutCompleted, revision, s.CurrentPodHash, reason))
	}
}

func int32Ptr(v int32) *int32 { return &v }

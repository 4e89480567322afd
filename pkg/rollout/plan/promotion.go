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
		swapPingPong(p.ro, s)
		revision := revisionOf(p.revs.newRS.Annotations)
		p.event(false, v1alpha1.EventRolloutCompleted, fmt.Sprintf(v1alpha1.MessageRolloutCompleted, revision, s.CurrentPodHash, reason))
	}
}

func int32Ptr(v int32) *int32 { return &v }

// swapPingPong hands the stable role to the other ping-pong Service when a
// new revision becomes stable: the one that was the canary (and so already
// selects the new pods) is stable from now on.
func swapPingPong(ro *v1alpha1.Rollout, s *v1alpha1.RolloutStatus) {
	if c := ro.Spec.Strategy.Canary; c == nil || c.PingPong == nil {
		return
	}
	if s.Canary.StablePingPong == v1alpha1.PPPing {
		s.Canary.StablePingPong = v1alpha1.PPPong
	} else {
		s.Canary.StablePingPong = v1alpha1.PPPing
	}
}

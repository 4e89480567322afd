package plan

// The facts about one reconcile that status.duration depends on, gathered
// from the State for nextDuration.
import (
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// durationFacts gathers what nextDuration needs besides the observed status
// and s, the new status.
func (p *planner) durationFacts(s v1alpha1.RolloutStatus) durationFacts {
	old := p.st.Rollout.Status
	canary := p.ro.Spec.Strategy.BlueGreen == nil
	return durationFacts{
		now: p.now,
		// A canary whose status records no steps yet (a first reconcile, or
		// one that was blue-green) counts as changed, as in Argo Rollouts.
		specChanged:      old.CurrentPodHash == "" || p.templateOrStepsChanged() || (canary && old.CurrentStepHash == ""),
		rollback:         p.rollback,
		desiredAvailable: p.revs.newRS != nil && rsAvailable(p.revs.newRS) >= specReplicas(p.ro),
		manualPause:      manualPause(p.ro, p.steps, s.PauseConditions),
	}
}

// classifyRollback tells whether the desired revision is an earlier one
// coming back, from the ReplicaSets as observed (before any phase changed
// their annotations): the stable revision itself, or one created before
// it. Coming back is fast for the stable revision, for one within
// spec.rollbackWindow and, for blue-green, for one whose scale-down deadline
// has not passed yet.
func (p *planner) classifyRollback() rollbackKind {
	newRS, stable := p.revs.newRS, p.revs.stable
	if newRS == nil || stable == nil || newRS.UID == "" {
		return notRollback // a revision still to be created is new
	}
	toStable := p.ro.Status.StableRS == p.revs.hash
	if !toStable && !newRS.CreationTimestamp.Before(&stable.CreationTimestamp) {
		return notRollback
	}
	if toStable || p.rollbackWithinWindow() {
		return fastRollback
	}
	if p.ro.Spec.Strategy.BlueGreen != nil {
		if left, ok := p.deadlineLeft(newRS); ok && left > 0 {
			return fastRollback
		}
	}
	return slowRollback
}

// manualPause tells whether the Rollout waits for a person: spec.paused, an
// inconclusive analysis or experiment, an indefinite canary pause step, or a
// blue-green pause with automatic promotion turned off. Timed pauses and
// waiting for an analysis to finish do not count.
func manualPause(ro *v1alpha1.Rollout, steps stepView, conds []v1alpha1.PauseCondition) bool {
	if ro.Spec.Paused {
		return true
	}
	for _, c := range conds {
		switch c.Reason {
		case v1alpha1.PauseReasonInconclusiveAnalysis, v1alpha1.PauseReasonInconclusiveExperiment:
			return true
		case v1alpha1.PauseReasonCanaryPauseStep:
			if step := steps.current(); step != nil && step.Pause != nil && step.Pause.Duration == nil {
				return true
			}
		case v1alpha1.PauseReasonBlueGreenPause:
			if bg := ro.Spec.Strategy.BlueGreen; bg != nil && bg.AutoPromotionEnabled != nil && !*bg.AutoPromotionEnabled {
				return true
			}
		}
	}
	return false
}

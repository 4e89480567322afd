package plan

import (
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// stepView reads a canary's steps at the index recorded in the observed status.
type stepView struct {
	ro    *v1alpha1.Rollout
	steps []v1alpha1.CanaryStep
	// index is status.currentStepIndex (0 when unset); meaningful only when
	// there are steps.
	index int32
}

func newStepView(ro *v1alpha1.Rollout) stepView {
	v := stepView{ro: ro}
	if ro.Spec.Strategy.Canary != nil {
		v.steps = ro.Spec.Strategy.Canary.Steps
	}
	if ro.Status.CurrentStepIndex != nil {
		v.index = *ro.Status.CurrentStepIndex
	}
	return v
}

func (v stepView) count() int32 { return int32(len(v.steps)) }

// current is the step being run, nil when there are no steps or all are done.
func (v stepView) current() *v1alpha1.CanaryStep {
	if v.index < 0 || v.index >= v.count() {
		return nil
	}
	return &v.steps[v.index]
}

// setWeight is the weight the canary should have: the last setWeight at or
// before the current step, the maximum once all steps are done, and zero
// while aborted.
func (v stepView) setWeight(aborting bool) int32 {
	if aborting {
		return 0
	}
	if v.current() == nil {
		return maxTrafficWeight(v.ro)
	}
	for i := v.index; i >= 0; i-- {
		if w := v.steps[i].SetWeight; w != nil {
			return *w
		}
	}
	return 0
}

// canaryScale is the setCanaryScale in force, if any: only with a traffic
// router, and not while an abort scales the canary down.
func (v stepView) canaryScale(aborting bool) *v1alpha1.SetCanaryScale {
	c := v.ro.Spec.Strategy.Canary
	if c == nil || c.TrafficRouting == nil || v.current() == nil {
		return nil
	}
	if aborting && abortScaleDownDelay(v.ro) != nil {
		return nil
	}
	for i := v.index; i >= 0; i-- {
		if s := v.steps[i].SetCanaryScale; s != nil {
			if s.MatchTrafficWeight {
				return nil
			}
			return s
		}
	}
	return nil
}

// indefinite tells whether the current step waits on something other than
// pods: a pause, an analysis or an experiment. The progress deadline does not
// run during such steps.
func (v stepView) indefinite() bool {
	s := v.current()
	return s != nil && (s.Pause != nil || s.Analysis != nil || s.Experiment != nil)
}

// stepString describes a step in events, as Argo Rollouts does.
func stepString(s v1alpha1.CanaryStep) string {
	switch {
	case s.SetWeight != nil:
		return fmt.Sprintf("setWeight: %d", *s.SetWeight)
	case s.Pause != nil:
		if s.Pause.Duration != nil {
			return "pause: " + s.Pause.Duration.String()
		}
		return "pause"
	case s.Experiment != nil:
		return "experiment"
	case s.Analysis != nil:
		return "analysis"
	case s.SetCanaryScale != nil:
		return "setCanaryScale"
	case s.SetHeaderRoute != nil:
		return "setHeaderRoute"
	case s.SetMirrorRoute != nil:
		return "setMirrorRoute"
	case s.Plugin != nil:
		return "plugin"
	}
	return "unknown"
}

// abortScaleDownDelay is how long the canary is kept after an abort, for
// canaries with a traffic router: nil means it is scaled down at once.
func abortScaleDownDelay(ro *v1alpha1.Rollout) *int32 {
	c := ro.Spec.Strategy.Canary
	if c == nil || c.TrafficRouting == nil {
		return nil
	}
	if c.AbortScaleDownDelaySeconds != nil {
		if *c.AbortScaleDownDelaySeconds == 0 {
			return nil
		}
		return c.AbortScaleDownDelaySeconds
	}
	d := v1alpha1.DefaultAbortScaleDownDelaySeconds
	return &d
}

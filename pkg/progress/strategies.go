package progress

import (
	"fmt"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// canary adds up the current step's remainder and the later steps.
func canary(ro *v1alpha1.Rollout, now time.Time, analyses AnalysisDuration) Estimate {
	steps := ro.Spec.Strategy.Canary.Steps
	var e Estimate
	if next, ok := personPause(ro); ok {
		e.WaitingForPromote, e.Next = true, next
	}
	i := 0
	if ro.Status.CurrentStepIndex != nil {
		i = int(*ro.Status.CurrentStepIndex)
	}
	if i >= len(steps) {
		if e.Next == "" {
			e.Next = "all steps done: the canary becomes stable once its pods are available"
		}
		return e
	}
	for j := i; j < len(steps); j++ {
		d, indefinite, what := stepDuration(ro, steps[j], j == i, now, analyses)
		if j == i && e.Next == "" {
			e.Next = fmt.Sprintf("step %d/%d: %s", j+1, len(steps), what)
		}
		if indefinite {
			e.WaitingForPromote = true
		}
		e.Remaining += d
	}
	return e
}

// stepDuration is what one canary step takes, whether it waits for a person,
// and its description. current tells that the step is in progress now.
func stepDuration(ro *v1alpha1.Rollout, st v1alpha1.CanaryStep, current bool, now time.Time, analyses AnalysisDuration) (time.Duration, bool, string) {
	switch {
	case st.SetWeight != nil:
		return 0, false, fmt.Sprintf("set weight %d%%", *st.SetWeight)
	case st.Pause != nil:
		secs := st.Pause.DurationSeconds()
		if secs <= 0 {
			return 0, true, "pause until promoted (waiting for promote)"
		}
		d := time.Duration(secs) * time.Second
		if start, ok := pauseStart(ro.Status, v1alpha1.PauseReasonCanaryPauseStep); ok && current {
			d = left(start, d, now)
		}
		return d, false, fmt.Sprintf("pause %s", time.Duration(secs)*time.Second)
	case st.Analysis != nil:
		d, ok := analyses(st.Analysis)
		if !ok {
			return 0, false, "analysis (runs until stopped)"
		}
		return d, false, fmt.Sprintf("analysis (%s)", d)
	case st.Experiment != nil:
		d, _ := st.Experiment.Duration.Duration()
		return d, false, fmt.Sprintf("experiment (%s)", d)
	}
	return 0, false, "step"
}

// blueGreen estimates the pre-promotion analysis, the pause before the
// switch and the post-promotion analysis still ahead.
func blueGreen(ro *v1alpha1.Rollout, now time.Time, analyses AnalysisDuration) Estimate {
	bg := ro.Spec.Strategy.BlueGreen
	var e Estimate
	if next, ok := personPause(ro); ok {
		e.WaitingForPromote, e.Next = true, next
	}
	switched := ro.Status.BlueGreen.ActiveSelector == ro.Status.CurrentPodHash && ro.Status.CurrentPodHash != ""
	if !switched {
		if bg.PrePromotionAnalysis != nil {
			d, _ := analyses(bg.PrePromotionAnalysis)
			e.Remaining += d
		}
		auto := bg.AutoPromotionEnabled == nil || *bg.AutoPromotionEnabled
		switch {
		case !auto:
			e.WaitingForPromote = true
			if e.Next == "" {
				e.Next = "waiting for promote to switch the active Service"
			}
		case bg.AutoPromotionSeconds > 0:
			d := time.Duration(bg.AutoPromotionSeconds) * time.Second
			if start, ok := pauseStart(ro.Status, v1alpha1.PauseReasonBlueGreenPause); ok {
				d = left(start, d, now)
			}
			e.Remaining += d
		}
		if e.Next == "" {
			e.Next = "switch the active Service to the preview revision"
		}
	}
	if bg.PostPromotionAnalysis != nil {
		d, _ := analyses(bg.PostPromotionAnalysis)
		e.Remaining += d
	}
	if e.Next == "" {
		e.Next = "the new revision becomes stable"
	}
	return e
}

// CanaryWeight is the canary's share of traffic now, in percent of the
// maximum weight: status.canary.weights when a router carries the split,
// otherwise the weight of the last setWeight step reached (100 once every
// step is done, 0 when aborted). The second result is false for a
// blue-green Rollout, which has no canary weight.
func CanaryWeight(ro *v1alpha1.Rollout) (int32, bool) {
	c := ro.Spec.Strategy.Canary
	if c == nil {
		return 0, false
	}
	if w := ro.Status.Canary.Weights; w != nil {
		return w.Canary.Weight, true
	}
	if ro.Status.Abort {
		return 0, true
	}
	if completed(ro) || ro.Status.CurrentStepIndex == nil {
		return boolWeight(completed(ro) || len(c.Steps) == 0), true
	}
	i := int(*ro.Status.CurrentStepIndex)
	if i >= len(c.Steps) {
		return 100, true
	}
	var w int32
	for _, st := range c.Steps[:i+1] {
		if st.SetWeight != nil {
			w = *st.SetWeight
		}
	}
	return w, true
}

func boolWeight(full bool) int32 {
	if full {
		return 100
	}
	return 0
}

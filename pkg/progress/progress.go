// Package progress estimates how far a Rollout is and how long it still
// needs, from its spec and status alone. It is pure: the Rollout, the time
// and, optionally, how long each analysis lasts go in, an Estimate comes
// out. The controller's metrics and `kubectl serin explain` share it.
package progress

import (
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Estimate is what remains of a Rollout's update.
type Estimate struct {
	// Complete tells that the desired revision is stable and nothing remains.
	Complete bool `json:"complete"`
	// Aborted tells that the update was aborted: it will not complete
	// without a retry or a new revision.
	Aborted bool `json:"aborted"`
	// WaitingForPromote tells that an indefinite pause (now or ahead) waits
	// for a person; Remaining then counts the rest as if promoted at once.
	WaitingForPromote bool `json:"waitingForPromote"`
	// Remaining is the least time the update still needs: what is left of
	// the current pause plus the later pauses and analyses, assuming pods
	// become ready at once and every analysis passes.
	Remaining time.Duration `json:"remaining"`
	// Next says in a few words what happens next.
	Next string `json:"next"`
}

// Known tells whether Remaining is a real ETA: the update neither completed,
// nor aborted, nor waits on a person.
func (e Estimate) Known() bool { return !e.Aborted && !e.WaitingForPromote }

// AnalysisDuration returns how long an analysis of the Rollout lasts, and
// false when it runs until stopped. Nil counts every analysis as instant.
type AnalysisDuration func(a *v1alpha1.RolloutAnalysis) (time.Duration, bool)

// Of estimates what remains of the Rollout's update at now.
func Of(ro *v1alpha1.Rollout, now time.Time, analyses AnalysisDuration) Estimate {
	s := ro.Status
	if s.Abort {
		return Estimate{Aborted: true, Next: "aborted: waits for a retry or a new revision"}
	}
	if completed(ro) {
		return Estimate{Complete: true, Next: "nothing: the desired revision is stable"}
	}
	if analyses == nil {
		analyses = func(*v1alpha1.RolloutAnalysis) (time.Duration, bool) { return 0, true }
	}
	if ro.Spec.Strategy.BlueGreen != nil {
		return blueGreen(ro, now, analyses)
	}
	return canary(ro, now, analyses)
}

// completed tells whether the desired revision is the stable one and the
// Rollout is Healthy.
func completed(ro *v1alpha1.Rollout) bool {
	s := ro.Status
	return s.CurrentPodHash != "" && s.StableRS == s.CurrentPodHash && s.Phase == v1alpha1.RolloutPhaseHealthy
}

// personPause tells whether a pause condition or spec.paused holds the
// Rollout until a person acts.
func personPause(ro *v1alpha1.Rollout) (string, bool) {
	if ro.Spec.Paused {
		return "paused (spec.paused): waiting for resume", true
	}
	for _, c := range ro.Status.PauseConditions {
		switch c.Reason {
		case v1alpha1.PauseReasonInconclusiveAnalysis, v1alpha1.PauseReasonInconclusiveExperiment:
			return "paused on an inconclusive " + inconclusiveWhat(c.Reason) + ": waiting for promote", true
		}
	}
	return "", false
}

func inconclusiveWhat(r v1alpha1.PauseReason) string {
	if r == v1alpha1.PauseReasonInconclusiveExperiment {
		return "experiment"
	}
	return "analysis"
}

// pauseStart returns when the pause condition with this reason began.
func pauseStart(s v1alpha1.RolloutStatus, reason v1alpha1.PauseReason) (time.Time, bool) {
	for _, c := range s.PauseConditions {
		if c.Reason == reason {
			return c.StartTime.Time, true
		}
	}
	return time.Time{}, false
}

// left is what remains of a wait of d that began at start, never negative.
func left(start time.Time, d time.Duration, now time.Time) time.Duration {
	return max(start.Add(d).Sub(now), 0)
}

// MetricsDuration is how long an analysis of these metrics lasts: the
// longest of initialDelay plus interval times (count-1). A metric with an
// interval and no count runs until stopped (false); one without either
// measures once.
func MetricsDuration(metrics []v1alpha1.Metric) (time.Duration, bool) {
	var longest time.Duration
	for _, m := range metrics {
		delay, _ := m.InitialDelay.Duration()
		interval, _ := m.Interval.Duration()
		count := 1
		if m.Count != nil {
			count = intOrString(*m.Count)
		} else if interval > 0 {
			return 0, false
		}
		d := delay + interval*time.Duration(max(count-1, 0))
		longest = max(longest, d)
	}
	return longest, true
}

// intOrString reads a count; an unreadable string counts as 1.
func intOrString(v intstr.IntOrString) int {
	if v.Type == intstr.Int {
		return int(v.IntVal)
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(&v, 100, false)
	if err != nil {
		return 1
	}
	return n
}

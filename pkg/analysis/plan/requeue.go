package plan

import (
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// minRequeue is the wait before a reconcile that is due immediately: an
// in-flight measurement to check on now, or a terminating run that still
// has measurements to stop.
const minRequeue = time.Second

// requeueAfter is how long until the earliest thing the running run waits
// for: a metric's next measurement, the end of an initialDelay, or the
// resumeAt of an in-flight measurement. Zero means nothing is scheduled.
func requeueAfter(spec v1alpha1.AnalysisRunSpec, s v1alpha1.AnalysisRunStatus, sched Scheduled, now time.Time) time.Duration {
	if terminating(spec, s) {
		// A metric ended the run in this reconcile (or the run was asked to
		// stop): the rest is stopped and the run completed on the next one.
		return minRequeue
	}
	var next time.Time
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, m := range sched.Metrics {
		r := s.MetricResultByName(m.Name)
		if r != nil && r.Phase.Completed() {
			continue
		}
		var last *v1alpha1.Measurement
		if r != nil {
			last = r.LastMeasurement()
		}
		if last != nil && last.FinishedAt == nil {
			if last.ResumeAt != nil {
				earliest(last.ResumeAt.Time)
			}
			continue
		}
		if t, ok := nextMeasurementAt(s, m, now); ok {
			earliest(t)
		}
	}
	if next.IsZero() {
		return 0
	}
	if d := next.Sub(now); d > 0 {
		return d
	}
	return minRequeue
}

// ttl reports whether a completed run's time-to-live has passed, and
// otherwise how long until it does (0 when it never expires). The TTL is
// secondsAfterSuccess for a Successful run and secondsAfterFailure for a
// Failed one when set, and secondsAfterCompletion otherwise.
func ttl(spec v1alpha1.AnalysisRunSpec, s v1alpha1.AnalysisRunStatus, now time.Time) (bool, time.Duration) {
	strategy := spec.TTLStrategy
	if !s.Phase.Completed() || strategy == nil || s.CompletedAt == nil {
		return false, 0
	}
	seconds := strategy.SecondsAfterCompletion
	switch {
	case s.Phase == v1alpha1.AnalysisPhaseSuccessful && strategy.SecondsAfterSuccess != nil:
		seconds = strategy.SecondsAfterSuccess
	case s.Phase == v1alpha1.AnalysisPhaseFailed && strategy.SecondsAfterFailure != nil:
		seconds = strategy.SecondsAfterFailure
	}
	if seconds == nil {
		return false, 0
	}
	deadline := s.CompletedAt.Add(time.Duration(*seconds) * time.Second)
	if !now.Before(deadline) {
		return true, 0
	}
	return false, deadline.Sub(now)
}

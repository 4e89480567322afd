package plan

import (
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Schedule decides which measurements are due at st.Now: a metric's first
// measurement once its initialDelay has passed, the next one an interval
// after the previous one finished (DefaultErrorRetryInterval after an
// error), until count measurements that did not error were taken. In-flight
// measurements are resumed when their resumeAt has come, and stopped as soon
// as the run is terminating; a terminating run starts nothing new.
func Schedule(st State) Scheduled {
	run := st.Run
	if run.Status.Phase.Completed() {
		return Scheduled{Completed: true}
	}
	metrics, err := resolveWithoutSecrets(run.Spec.Metrics, run.Spec.Args)
	if err != nil {
		return Scheduled{Invalid: prefixResolveArgs + err.Error()}
	}
	if err := ValidateMetrics(metrics); err != nil {
		return Scheduled{Invalid: prefixInvalidSpec + err.Error()}
	}
	dryRun, err := dryRunMetrics(run.Spec.DryRun, metrics)
	if err != nil {
		return Scheduled{Invalid: prefixInvalidSpec + err.Error()}
	}
	retention, err := retentionLimits(run.Spec.MeasurementRetention, metrics)
	if err != nil {
		return Scheduled{Invalid: prefixInvalidSpec + err.Error()}
	}
	s := Scheduled{Metrics: metrics, DryRun: dryRun, Retention: retention, Terminating: terminating(run.Spec, run.Status)}
	for i, m := range metrics {
		if t, ok := dueTask(run.Status, m, s.Terminating, st.Now); ok {
			t.Metric = run.Spec.Metrics[i]
			s.Tasks = append(s.Tasks, t)
		}
	}
	return s
}

// dueTask returns what to do with metric m now, if anything.
func dueTask(status v1alpha1.AnalysisRunStatus, m v1alpha1.Metric, terminating bool, now time.Time) (Task, bool) {
	result := status.MetricResultByName(m.Name)
	if result != nil && result.Phase.Completed() {
		return Task{}, false
	}
	var last *v1alpha1.Measurement
	if result != nil {
		last = result.LastMeasurement()
	}
	if last != nil && last.FinishedAt == nil {
		inFlight := last.DeepCopy()
		if terminating {
			return Task{Action: ActionTerminate, InFlight: inFlight}, true
		}
		if last.ResumeAt != nil && last.ResumeAt.After(now) {
			return Task{}, false
		}
		return Task{Action: ActionResume, InFlight: inFlight}, true
	}
	if terminating {
		return Task{}, false
	}
	due, ok := nextMeasurementAt(status, m, now)
	if !ok || now.Before(due) {
		return Task{}, false
	}
	return Task{Action: ActionRun}, true
}

// nextMeasurementAt is when metric m takes its next new measurement, or
// false when it takes none (count reached, or nothing left to schedule).
// A run that has not started yet starts at now.
func nextMeasurementAt(status v1alpha1.AnalysisRunStatus, m v1alpha1.Metric, now time.Time) (time.Time, bool) {
	result := status.MetricResultByName(m.Name)
	var last *v1alpha1.Measurement
	if result != nil {
		last = result.LastMeasurement()
	}
	if last == nil {
		start := now
		if status.StartedAt != nil {
			start = status.StartedAt.Time
		}
		delay, err := parseDuration(m.InitialDelay)
		if err != nil {
			return time.Time{}, false
		}
		return start.Add(delay), true
	}
	if last.FinishedAt == nil {
		return time.Time{}, false
	}
	if c := effectiveCount(m); c != nil && int(result.Count) >= c.IntValue() {
		return time.Time{}, false
	}
	interval := DefaultErrorRetryInterval
	if last.Phase != v1alpha1.AnalysisPhaseError && m.Interval != "" {
		d, err := m.Interval.Duration()
		if err != nil {
			return time.Time{}, false
		}
		interval = d
	}
	return last.FinishedAt.Add(interval), true
}

// terminating reports whether the run is being stopped: spec.terminate, or
// a metric that is not a dry run ended Failed, Error or Inconclusive.
func terminating(spec v1alpha1.AnalysisRunSpec, status v1alpha1.AnalysisRunStatus) bool {
	if spec.Terminate {
		return true
	}
	for _, r := range status.MetricResults {
		if r.DryRun {
			continue
		}
		switch r.Phase {
		case v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError, v1alpha1.AnalysisPhaseInconclusive:
			return true
		}
	}
	return false
}

// effectiveCount is the metric's total number of measurements, nil when
// unlimited.
func effectiveCount(m v1alpha1.Metric) *intstr.IntOrString {
	return m.EffectiveCount()
}

// parseDuration parses an optional duration; empty is zero.
func parseDuration(d v1alpha1.DurationString) (time.Duration, error) {
	if d == "" {
		return 0, nil
	}
	return d.Duration()
}

// intValue reads an optional int-or-string, with def when unset.
func intValue(v *intstr.IntOrString, def int) int {
	if v == nil {
		return def
	}
	return v.IntValue()
}

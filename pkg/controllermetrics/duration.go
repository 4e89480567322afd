package controllermetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// updateDurations are the three histograms of finished updates, by how the
// update ended (the status label, a CompletionStatus). They carry no
// namespace or name label, as in Argo Rollouts, so their series stay few.
type updateDurations struct {
	total, progression, manualPause *prometheus.HistogramVec
}

// Argo Rollouts' buckets, in seconds.
var (
	totalBuckets       = []float64{30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800}
	progressionBuckets = []float64{30, 60, 120, 300, 600, 900, 1800, 3600}
	manualPauseBuckets = []float64{0, 60, 300, 600, 1800, 3600, 7200, 14400, 28800}
)

func newUpdateDurations() updateDurations {
	histogram := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{"status"})
	}
	return updateDurations{
		total: histogram("rollout_duration_seconds",
			"Seconds from the start of a Rollout update to its end (promoted, aborted, superseded or rolled back), pauses included.",
			totalBuckets),
		progression: histogram("rollout_progression_duration_seconds",
			"Seconds a finished Rollout update spent progressing: its whole duration less the time it waited for a person.",
			progressionBuckets),
		manualPause: histogram("rollout_manual_pause_duration_seconds",
			"Seconds a finished Rollout update waited for a person: spec.paused, indefinite pause steps, manual blue-green promotion, inconclusive analyses.",
			manualPauseBuckets),
	}
}

func (u updateDurations) collectors() []prometheus.Collector {
	return []prometheus.Collector{u.total, u.progression, u.manualPause}
}

// ObserveRolloutDuration records one finished update from its
// status.duration record: the whole duration, the time it waited for a
// person, and the difference, labelled with how it ended. A record that has
// not finished (no start, end or completion status) is ignored. Call it once
// per update, when the status that ends it has been written.
func (m *Metrics) ObserveRolloutDuration(d v1alpha1.RolloutDurationStatus) {
	if d.RolloutStartedAt == nil || d.FinishedAt == nil || d.CompletionStatus == nil || *d.CompletionStatus == "" {
		return
	}
	total := max(0, d.FinishedAt.Sub(d.RolloutStartedAt.Time))
	var paused time.Duration
	if d.TotalManualPauseDurationSeconds != nil {
		paused = time.Duration(max(0, *d.TotalManualPauseDurationSeconds)) * time.Second
	}
	status := string(*d.CompletionStatus)
	m.durations.total.WithLabelValues(status).Observe(total.Seconds())
	m.durations.progression.WithLabelValues(status).Observe(max(0, total-paused).Seconds())
	m.durations.manualPause.WithLabelValues(status).Observe(paused.Seconds())
}

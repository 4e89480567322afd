package controllermetrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func finishedUpdate(started, finished time.Duration, pausedSeconds *int64, status v1alpha1.CompletionStatus) v1alpha1.RolloutDurationStatus {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	start, end := metav1.NewTime(base.Add(started)), metav1.NewTime(base.Add(finished))
	d := v1alpha1.RolloutDurationStatus{RolloutStartedAt: &start, FinishedAt: &end, TotalManualPauseDurationSeconds: pausedSeconds}
	if status != "" {
		d.CompletionStatus = &status
	}
	return d
}

// finishedUpdatesScraped is the scrape of a Promoted update of 10 minutes,
// 5 of them paused by hand, and an Aborted one of 45 seconds.
const finishedUpdatesScraped = `
# HELP rollout_duration_seconds Seconds from the start of a Rollout update to its end (promoted, aborted, superseded or rolled back), pauses included.
# TYPE rollout_duration_seconds histogram
rollout_duration_seconds_bucket{status="Aborted",le="30"} 0
rollout_duration_seconds_bucket{status="Aborted",le="60"} 1
rollout_duration_seconds_bucket{status="Aborted",le="120"} 1
rollout_duration_seconds_bucket{status="Aborted",le="300"} 1
rollout_duration_seconds_bucket{status="Aborted",le="600"} 1
rollout_duration_seconds_bucket{status="Aborted",le="1200"} 1
rollout_duration_seconds_bucket{status="Aborted",le="1800"} 1
rollout_duration_seconds_bucket{status="Aborted",le="3600"} 1
rollout_duration_seconds_bucket{status="Aborted",le="7200"} 1
rollout_duration_seconds_bucket{status="Aborted",le="14400"} 1
rollout_duration_seconds_bucket{status="Aborted",le="28800"} 1
rollout_duration_seconds_bucket{status="Aborted",le="+Inf"} 1
rollout_duration_seconds_sum{status="Aborted"} 45
rollout_duration_seconds_count{status="Aborted"} 1
rollout_duration_seconds_bucket{status="Promoted",le="30"} 0
rollout_duration_seconds_bucket{status="Promoted",le="60"} 0
rollout_duration_seconds_bucket{status="Promoted",le="120"} 0
rollout_duration_seconds_bucket{status="Promoted",le="300"} 0
rollout_duration_seconds_bucket{status="Promoted",le="600"} 1
rollout_duration_seconds_bucket{status="Promoted",le="1200"} 1
rollout_duration_seconds_bucket{status="Promoted",le="1800"} 1
rollout_duration_seconds_bucket{status="Promoted",le="3600"} 1
rollout_duration_seconds_bucket{status="Promoted",le="7200"} 1
rollout_duration_seconds_bucket{status="Promoted",le="14400"} 1
rollout_duration_seconds_bucket{status="Promoted",le="28800"} 1
rollout_duration_seconds_bucket{status="Promoted",le="+Inf"} 1
rollout_duration_seconds_sum{status="Promoted"} 600
rollout_duration_seconds_count{status="Promoted"} 1
# HELP rollout_progression_duration_seconds Seconds a finished Rollout update spent progressing: its whole duration less the time it waited for a person.
# TYPE rollout_progression_duration_seconds histogram
rollout_progression_duration_seconds_bucket{status="Aborted",le="30"} 0
rollout_progression_duration_seconds_bucket{status="Aborted",le="60"} 1
rollout_progression_duration_seconds_bucket{status="Aborted",le="120"} 1
rollout_progression_duration_seconds_bucket{status="Aborted",le="300"} 1
rollout_progression_duration_seconds_bucket{status="Aborted",le="600"} 1
rollout_progression_duration_seconds_bucket{status="Aborted",le="900"} 1
rollout_progression_duration_seconds_bucket{status="Aborted",le="1800"} 1
rollout_progression_duration_seconds_bucket{status="Aborted",le="3600"} 1
rollout_progression_duration_seconds_bucket{status="Aborted",le="+Inf"} 1
rollout_progression_duration_seconds_sum{status="Aborted"} 45
rollout_progression_duration_seconds_count{status="Aborted"} 1
rollout_progression_duration_seconds_bucket{status="Promoted",le="30"} 0
rollout_progression_duration_seconds_bucket{status="Promoted",le="60"} 0
rollout_progression_duration_seconds_bucket{status="Promoted",le="120"} 0
rollout_progression_duration_seconds_bucket{status="Promoted",le="300"} 1
rollout_progression_duration_seconds_bucket{status="Promoted",le="600"} 1
rollout_progression_duration_seconds_bucket{status="Promoted",le="900"} 1
rollout_progression_duration_seconds_bucket{status="Promoted",le="1800"} 1
rollout_progression_duration_seconds_bucket{status="Promoted",le="3600"} 1
rollout_progression_duration_seconds_bucket{status="Promoted",le="+Inf"} 1
rollout_progression_duration_seconds_sum{status="Promoted"} 300
rollout_progression_duration_seconds_count{status="Promoted"} 1
# HELP rollout_manual_pause_duration_seconds Seconds a finished Rollout update waited for a person: spec.paused, indefinite pause steps, manual blue-green promotion, inconclusive analyses.
# TYPE rollout_manual_pause_duration_seconds histogram
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="0"} 1
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="60"} 1
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="300"} 1
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="600"} 1
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="1800"} 1
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="3600"} 1
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="7200"} 1
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="14400"} 1
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="28800"} 1
rollout_manual_pause_duration_seconds_bucket{status="Aborted",le="+Inf"} 1
rollout_manual_pause_duration_seconds_sum{status="Aborted"} 0
rollout_manual_pause_duration_seconds_count{status="Aborted"} 1
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="0"} 0
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="60"} 0
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="300"} 1
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="600"} 1
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="1800"} 1
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="3600"} 1
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="7200"} 1
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="14400"} 1
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="28800"} 1
rollout_manual_pause_duration_seconds_bucket{status="Promoted",le="+Inf"} 1
rollout_manual_pause_duration_seconds_sum{status="Promoted"} 300
rollout_manual_pause_duration_seconds_count{status="Promoted"} 1
`

// A finished update is scraped as its whole duration, the time it waited
// for a person and the difference, under how it ended; an update without a
// pause waited 0 seconds.
func TestAFinishedUpdateIsScrapedInTheThreeDurationHistograms(t *testing.T) {
	m := New("test")
	paused := int64(300)
	m.ObserveRolloutDuration(finishedUpdate(0, 10*time.Minute, &paused, v1alpha1.CompletionStatusPromoted))
	m.ObserveRolloutDuration(finishedUpdate(0, 45*time.Second, nil, v1alpha1.CompletionStatusAborted))

	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(finishedUpdatesScraped),
		"rollout_duration_seconds", "rollout_progression_duration_seconds", "rollout_manual_pause_duration_seconds"); err != nil {
		t.Error(err)
	}
}

// Records of updates that have not finished are not observed, and a
// progression never comes out negative.
func TestOnlyFinishedUpdatesAreObservedAndNothingIsNegative(t *testing.T) {
	m := New("test")
	unfinished := finishedUpdate(0, time.Minute, nil, v1alpha1.CompletionStatusRolledBack)
	unfinished.FinishedAt = nil
	m.ObserveRolloutDuration(unfinished)
	m.ObserveRolloutDuration(finishedUpdate(0, time.Minute, nil, ""))
	if n := testutil.CollectAndCount(m.durations.total); n != 0 {
		t.Fatalf("%d series after unfinished records, want 0", n)
	}
	tooLong := int64(120)
	m.ObserveRolloutDuration(finishedUpdate(0, time.Minute, &tooLong, v1alpha1.CompletionStatusSuperseded))
	var got dto.Metric
	if err := m.durations.progression.WithLabelValues("Superseded").(prometheus.Metric).Write(&got); err != nil {
		t.Fatal(err)
	}
	if h := got.GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 0 {
		t.Fatalf("progression count/sum %d/%v, want 1/0", h.GetSampleCount(), h.GetSampleSum())
	}
}

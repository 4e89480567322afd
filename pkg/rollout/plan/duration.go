package plan

// Duration tracking: status.duration records when the current update began,
// how long it waited on a person, when it ended and how. It is decided last,
// from the observed status, the new status and a few facts about the
// reconcile, by nextDuration.
import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// rollbackKind says whether the desired revision is an earlier one coming
// back, and whether it comes back without running the steps again.
type rollbackKind int

const (
	notRollback rollbackKind = iota
	// slowRollback brings back a revision older than the stable one that
	// goes through the steps (or the pause) again.
	slowRollback
	// fastRollback brings back the stable revision itself, a revision within
	// spec.rollbackWindow, or, for blue-green, a revision still waiting out
	// its scale-down delay.
	fastRollback
)

// durationFacts are what status.duration depends on beyond the observed and
// the new status.
type durationFacts struct {
	// now is the time of the reconcile.
	now time.Time
	// specChanged tells that the desired revision (the pod template, or a
	// canary's steps) is not the one the observed status records, or that
	// none is recorded yet.
	specChanged bool
	// rollback classifies the desired revision; it matters only when
	// specChanged.
	rollback rollbackKind
	// desiredAvailable tells that the desired ReplicaSet runs at least
	// spec.replicas available pods.
	desiredAvailable bool
	// manualPause tells that the Rollout now waits for a person: spec.paused,
	// or a pause condition only a person ends.
	manualPause bool
}

// nextDuration returns status.duration after a reconcile whose observed
// status is old and whose new status is cur (pause, abort and promotion
// already decided), and, when an update ended in this reconcile, the record
// of that update for the duration metrics. The duration in cur is ignored.
//
// An update starts when the desired revision changes while nothing is in
// progress (or when an aborted update is retried), unless the desired
// revision is already stable and fully available. It ends when the desired
// revision is stable and fully available, when it is aborted, or when
// another revision replaces it; a change back to an earlier revision is
// classified as a rollback and ends like a promotion.
func nextDuration(old, cur v1alpha1.RolloutStatus, f durationFacts) (next, ended *v1alpha1.RolloutDurationStatus) {
	now := metav1.NewTime(f.now.Truncate(time.Second)) // the API keeps whole seconds
	d := old.Duration.DeepCopy()
	markPromotion(d, old, cur)
	done := cur.StableRS != "" && cur.StableRS == cur.CurrentPodHash && f.desiredAvailable
	if inProgress(d) {
		if f.specChanged {
			switch f.rollback {
			case slowRollback:
				d.CompletionStatus = completion(v1alpha1.CompletionStatusRolledBack)
			case fastRollback:
				d.CompletionStatus = completion(v1alpha1.CompletionStatusFastRolledBack)
			default:
				// A newer revision replaced it, whatever was recorded before.
				d.CompletionStatus = completion(v1alpha1.CompletionStatusSuperseded)
				finish(d, now, v1alpha1.CompletionStatusSuperseded)
				ended = d.DeepCopy()
			}
		}
		switch {
		case done && !finished(d):
			finish(d, now, v1alpha1.CompletionStatusPromoted)
			return d, d.DeepCopy()
		case cur.Abort && !finished(d):
			finish(d, now, v1alpha1.CompletionStatusAborted)
			ended = d.DeepCopy()
		}
	}
	if d == nil || (finished(d) && !done) {
		retried := !cur.Abort && abortedCondition(old)
		if (f.specChanged && !done) || retried {
			d = &v1alpha1.RolloutDurationStatus{RolloutStartedAt: &now}
		}
	}
	if d == nil || finished(d) {
		return d, ended
	}
	trackManualPause(d, now, f.manualPause)
	return d, ended
}

// markPromotion records how an update in progress is promoted when this
// reconcile makes its revision stable: FastPromoted after a full promotion
// was asked for, Promoted otherwise. A classification made earlier (a
// rollback) stands.
func markPromotion(d *v1alpha1.RolloutDurationStatus, old, cur v1alpha1.RolloutStatus) {
	if d == nil || d.CompletionStatus != nil || cur.StableRS == old.StableRS || cur.StableRS != cur.CurrentPodHash {
		return
	}
	status := v1alpha1.CompletionStatusPromoted
	if old.PromoteFull {
		status = v1alpha1.CompletionStatusFastPromoted
	}
	d.CompletionStatus = &status
}

// trackManualPause opens a manual pause when one begins and adds it to the
// total when it ends.
func trackManualPause(d *v1alpha1.RolloutDurationStatus, now metav1.Time, manual bool) {
	switch {
	case d.ManualPauseStartedAt != nil && !manual:
		closeManualPause(d, now)
	case d.ManualPauseStartedAt == nil && manual:
		d.ManualPauseStartedAt = &now
	}
}

// closeManualPause adds an open manual pause, in whole seconds, to the total.
func closeManualPause(d *v1alpha1.RolloutDurationStatus, now metav1.Time) {
	if d.ManualPauseStartedAt == nil {
		return
	}
	total := int64(max(0, now.Sub(d.ManualPauseStartedAt.Time)) / time.Second)
	if d.TotalManualPauseDurationSeconds != nil {
		total += *d.TotalManualPauseDurationSeconds
	}
	d.TotalManualPauseDurationSeconds = &total
	d.ManualPauseStartedAt = nil
}

// finish ends an update at now. The way it ended is fallback unless one was
// recorded already; an open manual pause ends with it.
func finish(d *v1alpha1.RolloutDurationStatus, now metav1.Time, fallback v1alpha1.CompletionStatus) {
	closeManualPause(d, now)
	d.FinishedAt = &now
	if d.CompletionStatus == nil {
		d.CompletionStatus = completion(fallback)
	}
}

func completion(s v1alpha1.CompletionStatus) *v1alpha1.CompletionStatus { return &s }

func inProgress(d *v1alpha1.RolloutDurationStatus) bool {
	return d != nil && d.RolloutStartedAt != nil && d.FinishedAt == nil
}

func finished(d *v1alpha1.RolloutDurationStatus) bool {
	return d != nil && d.RolloutStartedAt != nil && d.FinishedAt != nil
}

// abortedCondition tells whether the Progressing condition of s says the
// update was aborted.
func abortedCondition(s v1alpha1.RolloutStatus) bool {
	c := condition(s, v1alpha1.RolloutProgressing)
	return c != nil && c.Reason == v1alpha1.ReasonRolloutAborted
}

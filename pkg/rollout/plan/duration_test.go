package plan

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// record builds a duration record; times are offsets from epoch, negative
// for unset.
func record(started, pauseOpen time.Duration, paused int64, finished time.Duration, status v1alpha1.CompletionStatus) *v1alpha1.RolloutDurationStatus {
	at := func(d time.Duration) *metav1.Time {
		if d < 0 {
			return nil
		}
		t := metav1.NewTime(epoch.Add(d))
		return &t
	}
	r := &v1alpha1.RolloutDurationStatus{RolloutStartedAt: at(started), ManualPauseStartedAt: at(pauseOpen), FinishedAt: at(finished)}
	if paused >= 0 {
		r.TotalManualPauseDurationSeconds = &paused
	}
	if status != "" {
		r.CompletionStatus = &status
	}
	return r
}

const unset = -1

// updating is a status mid-update from revision "blue" (stable) to "green".
func updating(d *v1alpha1.RolloutDurationStatus) v1alpha1.RolloutStatus {
	return v1alpha1.RolloutStatus{StableRS: "blue", CurrentPodHash: "green", Duration: d}
}

// promoted is the status once "green" is stable.
func promoted(d *v1alpha1.RolloutDurationStatus) v1alpha1.RolloutStatus {
	return v1alpha1.RolloutStatus{StableRS: "green", CurrentPodHash: "green", Duration: d}
}

func abortedStatus(d *v1alpha1.RolloutDurationStatus) v1alpha1.RolloutStatus {
	s := updating(d)
	s.Abort = true
	s.Conditions = []v1alpha1.RolloutCondition{{Type: v1alpha1.RolloutProgressing, Status: corev1.ConditionFalse, Reason: v1alpha1.ReasonRolloutAborted}}
	return s
}

type durationCase struct {
	name       string
	old, cur   v1alpha1.RolloutStatus
	facts      durationFacts
	next, done string
}

var (
	inProgressRecord = record(time.Minute, unset, unset, unset, "")
	abortedOld       = abortedStatus(record(time.Minute, unset, 0, 2*time.Minute, v1alpha1.CompletionStatusAborted))
)

func fullPromotion() v1alpha1.RolloutStatus {
	s := updating(inProgressRecord)
	s.PromoteFull = true
	return s
}

// durationCases are decided at 10m after epoch.
var durationCases = []durationCase{{
	name: "a Rollout at rest without a record gets none",
	old:  promoted(nil), cur: promoted(nil),
	facts: durationFacts{desiredAvailable: true},
	next:  "none", done: "none",
}, {
	name: "an update that began before any record was kept gets none until the next one",
	old:  updating(nil), cur: updating(nil),
	next: "none", done: "none",
}, {
	name: "a new revision starts a record",
	old:  promoted(record(0, unset, unset, 0, v1alpha1.CompletionStatusPromoted)), cur: updating(nil),
	facts: durationFacts{specChanged: true},
	next:  "started 10m0s, pause open since -, paused -, finished -, -", done: "none",
}, {
	name: "a change to a revision that is already stable and available starts nothing",
	old:  promoted(nil), cur: promoted(nil),
	facts: durationFacts{specChanged: true, desiredAvailable: true},
	next:  "none", done: "none",
}, {
	name: "promotion is known when the revision becomes stable; the update ends once it is available",
	old:  updating(inProgressRecord), cur: promoted(nil),
	next: "started 1m0s, pause open since -, paused -, finished -, Promoted", done: "none",
}, {
	name: "a promotion asked for in full is FastPromoted",
	old:  fullPromotion(), cur: promoted(nil),
	facts: durationFacts{desiredAvailable: true},
	next:  "started 1m0s, pause open since -, paused -, finished 10m0s, FastPromoted",
	done:  "started 1m0s, pause open since -, paused -, finished 10m0s, FastPromoted",
}, {
	name: "a rollback stays a rollback when it is promoted",
	old:  updating(record(time.Minute, unset, unset, unset, v1alpha1.CompletionStatusRolledBack)), cur: promoted(nil),
	facts: durationFacts{desiredAvailable: true},
	next:  "started 1m0s, pause open since -, paused -, finished 10m0s, RolledBack",
	done:  "started 1m0s, pause open since -, paused -, finished 10m0s, RolledBack",
}, {
	name: "a newer revision supersedes even a rollback, and starts its own record",
	old:  updating(record(time.Minute, 4*time.Minute, 30, unset, v1alpha1.CompletionStatusRolledBack)), cur: updating(nil),
	facts: durationFacts{specChanged: true},
	next:  "started 10m0s, pause open since -, paused -, finished -, -",
	done:  "started 1m0s, pause open since -, paused 390s, finished 10m0s, Superseded",
}, {
	name: "a change back to an older revision is classified at once and goes on",
	old:  updating(inProgressRecord), cur: updating(nil),
	facts: durationFacts{specChanged: true, rollback: slowRollback},
	next:  "started 1m0s, pause open since -, paused -, finished -, RolledBack", done: "none",
}, {
	name: "an abort ends the update, with the manual pause open until then",
	old:  updating(record(time.Minute, 9*time.Minute, 5, unset, "")), cur: abortedStatus(nil),
	facts: durationFacts{manualPause: true},
	next:  "started 1m0s, pause open since -, paused 65s, finished 10m0s, Aborted",
	done:  "started 1m0s, pause open since -, paused 65s, finished 10m0s, Aborted",
}, {
	name: "an aborted record stays while the Rollout stays aborted",
	old:  abortedOld, cur: abortedOld,
	next: "started 1m0s, pause open since -, paused 0s, finished 2m0s, Aborted", done: "none",
}, {
	name: "a retry after an abort starts a new record",
	old:  abortedOld, cur: updating(nil),
	next: "started 10m0s, pause open since -, paused -, finished -, -", done: "none",
}, {
	name: "a manual pause opens when the Rollout begins waiting for a person",
	old:  updating(inProgressRecord), cur: updating(nil),
	facts: durationFacts{manualPause: true},
	next:  "started 1m0s, pause open since 10m0s, paused -, finished -, -", done: "none",
}, {
	name: "a second manual pause adds to the first",
	old:  updating(record(time.Minute, 8*time.Minute, 30, unset, "")), cur: updating(nil),
	next: "started 1m0s, pause open since -, paused 150s, finished -, -", done: "none",
}, {
	name: "a finished record stays as it is while nothing changes",
	old:  promoted(record(time.Minute, unset, 0, 2*time.Minute, v1alpha1.CompletionStatusPromoted)), cur: promoted(nil),
	facts: durationFacts{desiredAvailable: true, manualPause: true},
	next:  "started 1m0s, pause open since -, paused 0s, finished 2m0s, Promoted", done: "none",
}}

func TestNextDuration(t *testing.T) {
	for _, c := range durationCases {
		t.Run(c.name, func(t *testing.T) {
			c.facts.now = epoch.Add(10 * time.Minute)
			next, done := nextDuration(c.old, c.cur, c.facts)
			if got := durationString(next); got != c.next {
				t.Errorf("status.duration:\n  %s\nwant\n  %s", got, c.next)
			}
			if got := durationString(done); got != c.done {
				t.Errorf("finished update:\n  %s\nwant\n  %s", got, c.done)
			}
		})
	}
}

// The API keeps whole seconds, and a clock that went back does not make a
// pause negative.
func TestManualPauseSecondsAreWholeAndNeverNegative(t *testing.T) {
	for _, c := range []struct {
		name  string
		now   time.Duration
		total int64
	}{
		{"a fraction of a second is dropped", 90*time.Second + 900*time.Millisecond, 90},
		{"a clock behind the pause's start counts nothing", -time.Minute, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			old := updating(record(0, 0, unset, unset, ""))
			next, _ := nextDuration(old, updating(nil), durationFacts{now: epoch.Add(c.now)})
			if got := next.TotalManualPauseDurationSeconds; got == nil || *got != c.total || next.ManualPauseStartedAt != nil {
				t.Fatalf("total %v, pause open since %v; want %d and closed", got, next.ManualPauseStartedAt, c.total)
			}
		})
	}
}

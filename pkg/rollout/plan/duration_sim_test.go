package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// durationString describes a duration record with times as offsets from
// the world's epoch, e.g. "started 1m0s, pause open since -, paused 300s,
// finished 6m0s, Promoted".
func durationString(d *v1alpha1.RolloutDurationStatus) string {
	if d == nil {
		return "none"
	}
	at := func(t *metav1.Time) string {
		if t == nil {
			return "-"
		}
		return t.Sub(epoch).String()
	}
	paused, status := "-", "-"
	if d.TotalManualPauseDurationSeconds != nil {
		paused = fmt.Sprintf("%ds", *d.TotalManualPauseDurationSeconds)
	}
	if d.CompletionStatus != nil {
		status = string(*d.CompletionStatus)
	}
	return fmt.Sprintf("started %s, pause open since %s, paused %s, finished %s, %s",
		at(d.RolloutStartedAt), at(d.ManualPauseStartedAt), paused, at(d.FinishedAt), status)
}

func (w *world) expectDuration(want string) {
	w.t.Helper()
	if got := durationString(w.ro.Status.Duration); got != want {
		w.t.Fatalf("status.duration:\n  %s\nwant\n  %s", got, want)
	}
}

// expectFinished checks the records the plans handed to the metrics, in order.
func (w *world) expectFinished(want ...string) {
	w.t.Helper()
	var got []string
	for i := range w.finished {
		got = append(got, durationString(&w.finished[i]))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		w.t.Fatalf("finished updates:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const firstDeploy = "started 0s, pause open since -, paused -, finished 0s, Promoted"

// canaryPausedByHand is a canary (setWeight 50, then a pause without a
// duration) deployed at 0s and updated to demo:v2 at 1m, now waiting at the
// pause for a person since 1m.
func canaryPausedByHand(t *testing.T, mutate func(*v1alpha1.Rollout)) *world {
	ro := canaryRollout(setWeight(50), pauseFor(""))
	if mutate != nil {
		mutate(ro)
	}
	w := newWorld(t, ro)
	w.settle()
	w.expectDuration(firstDeploy)
	w.advance(time.Minute)
	w.setImage("demo:v2")
	w.settle()
	w.expectDuration("started 1m0s, pause open since 1m0s, paused -, finished -, -")
	return w
}

func TestACanaryPromotedThroughItsStepsIsPromotedAndCountsThePauseWaitedForAPerson(t *testing.T) {
	w := canaryPausedByHand(t, nil)
	w.advance(5 * time.Minute)
	w.promote()
	w.settle()
	done := "started 1m0s, pause open since -, paused 300s, finished 6m0s, Promoted"
	w.expectDuration(done)
	w.expectFinished(firstDeploy, done)
}

func TestACanaryPromotedFullyIsFastPromoted(t *testing.T) {
	w := canaryPausedByHand(t, nil)
	w.advance(2 * time.Minute)
	w.ro.Status.PromoteFull = true // kubectl argo rollouts promote --full
	w.settle()
	done := "started 1m0s, pause open since -, paused 120s, finished 3m0s, FastPromoted"
	w.expectDuration(done)
	w.expectFinished(firstDeploy, done)
}

func TestAnAbortedCanaryIsAbortedAndARetryStartsANewRecord(t *testing.T) {
	w := canaryPausedByHand(t, nil)
	w.advance(2 * time.Minute)
	w.ro.Status.Abort = true
	w.settle()
	aborted := "started 1m0s, pause open since -, paused 120s, finished 3m0s, Aborted"
	w.expectDuration(aborted)

	w.advance(time.Minute)
	w.ro.Status.Abort = false // kubectl argo rollouts retry
	w.settle()
	w.expectDuration("started 4m0s, pause open since 4m0s, paused -, finished -, -")
	w.expectFinished(firstDeploy, aborted)
}

func TestACanaryReplacedByANewerRevisionIsSupersededAndTheNewerOneStarts(t *testing.T) {
	w := canaryPausedByHand(t, nil)
	w.advance(2 * time.Minute)
	w.setImage("demo:v3")
	w.settle()
	superseded := "started 1m0s, pause open since -, paused 120s, finished 3m0s, Superseded"
	w.expectDuration("started 3m0s, pause open since 3m0s, paused -, finished -, -")

	w.advance(time.Minute)
	w.promote()
	w.settle()
	done := "started 3m0s, pause open since -, paused 60s, finished 4m0s, Promoted"
	w.expectDuration(done)
	w.expectFinished(firstDeploy, superseded, done)
}

func TestACanaryChangedStepsMidUpdateIsSuperseded(t *testing.T) {
	w := canaryPausedByHand(t, nil)
	w.advance(time.Minute)
	w.ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{setWeight(20), pauseFor("")}
	w.ro.Generation++
	w.settle()
	w.expectDuration("started 2m0s, pause open since 2m0s, paused -, finished -, -")
	w.expectFinished(firstDeploy, "started 1m0s, pause open since -, paused 60s, finished 2m0s, Superseded")
}

func TestACanarySetBackToItsStableRevisionIsFastRolledBackAtOnce(t *testing.T) {
	w := canaryPausedByHand(t, nil)
	w.advance(2 * time.Minute)
	w.setImage("demo:v1")
	w.settle()
	done := "started 1m0s, pause open since -, paused 120s, finished 3m0s, FastRolledBack"
	w.expectDuration(done)
	w.expectFinished(firstDeploy, done)
}

// promoteCanaryTo updates a canary paused by hand (as canaryPausedByHand
// leaves it) to image a minute later and promotes it through its pause.
func promoteCanaryTo(w *world, image string) {
	w.t.Helper()
	w.promote()
	w.settle()
	w.advance(time.Minute)
	w.setImage(image)
	w.settle()
}

func TestACanarySetBackToARevisionOlderThanStableRunsItsStepsAndIsRolledBack(t *testing.T) {
	w := canaryPausedByHand(t, nil) // v2 at 1m
	promoteCanaryTo(w, "demo:v3")   // v2 stable at 1m, v3 at 2m
	promoteCanaryTo(w, "demo:v4")   // v3 stable at 2m, v4 at 3m
	w.advance(time.Minute)
	w.setImage("demo:v1") // revision 1 is older than the stable revision 3
	w.settle()
	// Known at once; the steps run again, with a new pause for a person.
	w.expectDuration("started 3m0s, pause open since 4m0s, paused 60s, finished -, RolledBack")
	w.expectStep(1)

	w.advance(time.Minute)
	w.promote()
	w.settle()
	done := "started 3m0s, pause open since -, paused 120s, finished 5m0s, RolledBack"
	w.expectDuration(done)
	if got := durationString(&w.finished[len(w.finished)-1]); got != done || len(w.finished) != 4 {
		t.Fatalf("%d finished updates, the last %q; want 4, the last %q", len(w.finished), got, done)
	}
}

func TestACanarySetBackWithinTheRollbackWindowIsFastRolledBack(t *testing.T) {
	w := canaryPausedByHand(t, func(ro *v1alpha1.Rollout) {
		ro.Spec.RollbackWindow = &v1alpha1.RollbackWindowSpec{Revisions: 1}
	})
	promoteCanaryTo(w, "demo:v3") // v2 stable at 1m, v3 at 2m
	w.advance(time.Minute)
	w.setImage("demo:v1") // revision 1 comes right before the stable revision 2
	w.settle()
	done := "started 2m0s, pause open since -, paused 60s, finished 3m0s, FastRolledBack"
	w.expectDuration(done)
	w.expectFinished(firstDeploy, "started 1m0s, pause open since -, paused 0s, finished 1m0s, Promoted", done)
}

func TestATimedCanaryPauseIsNotAManualPause(t *testing.T) {
	ro := canaryRollout(setWeight(50), pauseFor("30s"))
	w := newWorld(t, ro)
	w.settle()
	w.advance(time.Minute)
	w.setImage("demo:v2")
	w.settle()
	w.expectDuration("started 1m0s, pause open since -, paused -, finished -, -")
	w.advance(31 * time.Second)
	w.settle()
	w.expectDuration("started 1m0s, pause open since -, paused -, finished 1m31s, Promoted")
}

func TestSpecPausedCountsAsAManualPause(t *testing.T) {
	ro := canaryRollout(setWeight(50))
	w := newWorld(t, ro)
	w.settle()
	w.advance(time.Minute)
	w.ro.Spec.Paused = true
	w.setImage("demo:v2")
	w.settle()
	w.expectDuration("started 1m0s, pause open since 1m0s, paused -, finished -, -")
	w.advance(90 * time.Second)
	w.ro.Spec.Paused = false
	w.settle()
	w.expectDuration("started 1m0s, pause open since -, paused 90s, finished 2m30s, Promoted")
}

func TestScalingAFinishedCanaryKeepsItsRecord(t *testing.T) {
	w := canaryPausedByHand(t, nil)
	w.promote()
	w.settle()
	done := "started 1m0s, pause open since -, paused 0s, finished 1m0s, Promoted"
	w.advance(time.Minute)
	w.ro.Spec.Replicas = int32Ptr(3)
	w.ro.Generation++
	w.settle()
	w.expectReplicas(map[string]int32{"rev2": 3})
	w.expectDuration(done)
	w.expectFinished(firstDeploy, done)
}

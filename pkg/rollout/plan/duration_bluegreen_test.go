package plan

import (
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// blueGreenPausedByHand is a blue-green Rollout with manual promotion,
// deployed at 0s and updated to demo:v2 at 1m, now waiting before the switch
// for a person since 1m.
func blueGreenPausedByHand(t *testing.T) *world {
	w := blueGreenWorld(t, manualPromotion)
	w.settleWatchingActive()
	w.expectDuration(firstDeploy)
	w.advance(time.Minute)
	w.setImage("demo:v2")
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonBlueGreenPause))
	w.expectDuration("started 1m0s, pause open since 1m0s, paused -, finished -, -")
	return w
}

func TestABlueGreenPromotedByHandIsPromotedAndCountsThePause(t *testing.T) {
	w := blueGreenPausedByHand(t)
	w.advance(5 * time.Minute)
	w.promote()
	w.settleWatchingActive()
	done := "started 1m0s, pause open since -, paused 300s, finished 6m0s, Promoted"
	w.expectDuration(done)
	w.expectFinished(firstDeploy, done)
}

func TestABlueGreenWithAutomaticPromotionHasNoManualPause(t *testing.T) {
	w := blueGreenWorld(t, func(bg *v1alpha1.BlueGreenStrategy) { bg.AutoPromotionSeconds = 30 })
	w.settleWatchingActive()
	w.advance(time.Minute)
	w.setImage("demo:v2")
	w.settleWatchingActive()
	w.expectDuration("started 1m0s, pause open since -, paused -, finished -, -")
	w.advance(31 * time.Second)
	w.settleWatchingActive()
	w.expectDuration("started 1m0s, pause open since -, paused -, finished 1m31s, Promoted")
}

func TestABlueGreenPromotedFullyIsFastPromoted(t *testing.T) {
	w := blueGreenPausedByHand(t)
	w.advance(2 * time.Minute)
	w.ro.Status.PromoteFull = true
	w.settleWatchingActive()
	done := "started 1m0s, pause open since -, paused 120s, finished 3m0s, FastPromoted"
	w.expectDuration(done)
	w.expectFinished(firstDeploy, done)
}

func TestAnAbortedBlueGreenIsAbortedAndARetryStartsANewRecord(t *testing.T) {
	w := blueGreenPausedByHand(t)
	w.advance(2 * time.Minute)
	w.ro.Status.Abort = true
	w.settleWatchingActive()
	aborted := "started 1m0s, pause open since -, paused 120s, finished 3m0s, Aborted"
	w.expectDuration(aborted)

	w.advance(time.Minute)
	w.ro.Status.Abort = false
	w.settleWatchingActive()
	w.expectDuration("started 4m0s, pause open since 4m0s, paused -, finished -, -")
	w.expectFinished(firstDeploy, aborted)
}

func TestABlueGreenReplacedByANewerRevisionIsSuperseded(t *testing.T) {
	w := blueGreenPausedByHand(t)
	w.advance(2 * time.Minute)
	w.setImage("demo:v3")
	w.settleWatchingActive()
	w.expectDuration("started 3m0s, pause open since 3m0s, paused -, finished -, -")
	w.expectFinished(firstDeploy, "started 1m0s, pause open since -, paused 120s, finished 3m0s, Superseded")
}

func TestABlueGreenSetBackToItsActiveRevisionIsFastRolledBackAtOnce(t *testing.T) {
	w := blueGreenPausedByHand(t)
	w.advance(2 * time.Minute)
	w.setImage("demo:v1")
	w.settleWatchingActive()
	done := "started 1m0s, pause open since -, paused 120s, finished 3m0s, FastRolledBack"
	w.expectDuration(done)
	w.expectFinished(firstDeploy, done)
}

// promoteBlueGreenTo promotes a blue-green paused by hand, then updates it
// to image after advancing by after.
func promoteBlueGreenTo(w *world, image string, after time.Duration) {
	w.t.Helper()
	w.promote()
	w.settleWatchingActive()
	w.advance(after)
	w.setImage(image)
	w.settleWatchingActive()
}

func TestABlueGreenSetBackToARevisionStillWaitingToScaleDownIsFastRolledBack(t *testing.T) {
	w := blueGreenPausedByHand(t)                    // v2 at 1m
	promoteBlueGreenTo(w, "demo:v3", 10*time.Second) // v2 active at 1m, v1 kept until 1m30s; v3 at 1m10s
	w.expectReplicas(map[string]int32{"rev1": 3, "rev2": 3, "rev3": 3})
	w.advance(10 * time.Second)
	w.setImage("demo:v1")
	w.step()
	w.expectDuration("started 1m10s, pause open since -, paused 10s, finished -, FastRolledBack")
}

func TestABlueGreenSetBackToAnOlderScaledDownRevisionIsRolledBack(t *testing.T) {
	w := blueGreenPausedByHand(t)                 // v2 at 1m
	promoteBlueGreenTo(w, "demo:v3", time.Minute) // v2 active at 1m; v3 at 2m
	promoteBlueGreenTo(w, "demo:v4", time.Minute) // v3 active at 2m; v4 at 3m
	w.advance(time.Minute)
	w.setImage("demo:v1") // revision 1 is older than revision 3 and scaled down
	w.settleWatchingActive()
	w.expectDuration("started 3m0s, pause open since 4m0s, paused 60s, finished -, RolledBack")

	w.advance(time.Minute)
	w.promote()
	w.settleWatchingActive()
	done := "started 3m0s, pause open since -, paused 120s, finished 5m0s, RolledBack"
	w.expectDuration(done)
	if got := durationString(&w.finished[len(w.finished)-1]); got != done || len(w.finished) != 4 {
		t.Fatalf("%d finished updates, the last %q; want 4, the last %q", len(w.finished), got, done)
	}
}

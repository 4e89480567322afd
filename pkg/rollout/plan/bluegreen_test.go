package plan

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func blueGreenWorld(t *testing.T, mutate func(*v1alpha1.BlueGreenStrategy)) *world {
	ro := canaryRollout()
	ro.Spec.Replicas = int32Ptr(3)
	ro.Spec.Strategy = v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: "active", PreviewService: "preview"}}
	if mutate != nil {
		mutate(ro.Spec.Strategy.BlueGreen)
	}
	w := newWorld(t, ro)
	w.addService("active")
	w.addService("preview")
	return w
}

func manualPromotion(bg *v1alpha1.BlueGreenStrategy) {
	f := false
	bg.AutoPromotionEnabled = &f
}

// activeNeverSelectsUnavailable steps the world and fails as soon as the
// active Service selects a revision that is not fully available.
func (w *world) settleWatchingActive() {
	w.t.Helper()
	for i := 0; i < 30; i++ {
		before := w.snapshot()
		w.step()
		hash := w.services["active"].Spec.Selector[v1alpha1.LabelPodTemplateHash]
		if rs := w.rss["demo-"+hash]; hash != "" && (rs == nil || rs.Status.AvailableReplicas < 3) {
			w.t.Fatalf("the active Service selects %s, which has %v available pods", hash, rs)
		}
		if w.snapshot() == before {
			return
		}
	}
	w.t.Fatal("did not settle")
}

func TestBlueGreenFirstDeploySwitchesBothServices(t *testing.T) {
	w := blueGreenWorld(t, manualPromotion)
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	h := w.hash()
	if got := w.serviceHashes(); got["active"] != h || got["preview"] != h {
		t.Fatalf("services select %v, want both on %s", got, h)
	}
	s := w.ro.Status
	if s.StableRS != h || s.BlueGreen.ActiveSelector != h || s.BlueGreen.PreviewSelector != h {
		t.Fatalf("status stable/active/preview = %s/%s/%s, want %s", s.StableRS, s.BlueGreen.ActiveSelector, s.BlueGreen.PreviewSelector, h)
	}
	if s.Selector != "app=demo,rollouts-pod-template-hash="+h || s.HPAReplicas != 3 || s.CurrentStepIndex != nil {
		t.Fatalf("selector/HPAReplicas/step = %q/%d/%v", s.Selector, s.HPAReplicas, s.CurrentStepIndex)
	}
	w.expectCondition(v1alpha1.RolloutAvailable, corev1.ConditionTrue, v1alpha1.ReasonAvailable)
}

func TestBlueGreenManualPromotionSwitchesThenScalesTheOldDownAfterTheDelay(t *testing.T) {
	w := blueGreenWorld(t, manualPromotion)
	w.settleWatchingActive()
	blue := w.hash()
	w.advance(time.Minute)
	w.setImage("demo:v2")
	w.settleWatchingActive()
	green := w.hash()
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonBlueGreenPause))
	w.expectReplicas(map[string]int32{"rev1": 3, "rev2": 3})
	if got := w.serviceHashes(); got["active"] != blue || got["preview"] != green {
		t.Fatalf("before promotion services select %v, want active=%s preview=%s", got, blue, green)
	}

	w.promote()
	w.settleWatchingActive()
	if got := w.serviceHashes(); got["active"] != green {
		t.Fatalf("after promotion active selects %s, want %s", got["active"], green)
	}
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if w.ro.Status.StableRS != green {
		t.Fatalf("stableRS = %s, want %s", w.ro.Status.StableRS, green)
	}
	// The old revision waits out scaleDownDelaySeconds (30s) for a fast rollback.
	w.expectReplicas(map[string]int32{"rev1": 3, "rev2": 3})
	if got, want := w.rss["demo-"+blue].Annotations[v1alpha1.AnnotationScaleDownDeadline], w.now.Add(30*time.Second).Format(time.RFC3339); got != want {
		t.Fatalf("the old revision's scale-down-deadline annotation = %q, want %q", got, want)
	}
	if w.last.RequeueAfter != 30*time.Second {
		t.Fatalf("requeue after %s, want the 30s to the scale-down deadline", w.last.RequeueAfter)
	}
	w.advance(31 * time.Second)
	w.settleWatchingActive()
	w.expectReplicas(map[string]int32{"rev2": 3})
}

func TestBlueGreenAutoPromotionSeconds(t *testing.T) {
	w := blueGreenWorld(t, func(bg *v1alpha1.BlueGreenStrategy) { bg.AutoPromotionSeconds = 20 })
	w.settleWatchingActive()
	w.setImage("demo:v2")
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonBlueGreenPause))
	if w.last.RequeueAfter != 20*time.Second {
		t.Fatalf("requeue after %s, want the 20s auto-promotion", w.last.RequeueAfter)
	}
	w.advance(21 * time.Second)
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if w.services["active"].Spec.Selector[v1alpha1.LabelPodTemplateHash] != w.hash() {
		t.Fatal("auto-promotion did not switch the active Service")
	}
}

func TestBlueGreenAbortBeforeTheSwitchKeepsActiveAndScalesThePreviewDown(t *testing.T) {
	w := blueGreenWorld(t, manualPromotion)
	w.settleWatchingActive()
	blue := w.hash()
	w.setImage("demo:v2")
	w.settleWatchingActive()
	w.ro.Status.Abort = true
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhaseDegraded, "RolloutAborted: Rollout aborted update to revision 2")
	if got := w.serviceHashes(); got["active"] != blue {
		t.Fatalf("after abort active selects %s, want %s", got["active"], blue)
	}
	// abortScaleDownDelaySeconds defaults to 30.
	w.expectReplicas(map[string]int32{"rev1": 3, "rev2": 3})
	w.advance(31 * time.Second)
	w.settleWatchingActive()
	w.expectReplicas(map[string]int32{"rev1": 3})
}

func TestBlueGreenPreviewReplicaCountThenPromoteFull(t *testing.T) {
	w := blueGreenWorld(t, func(bg *v1alpha1.BlueGreenStrategy) {
		manualPromotion(bg)
		bg.PreviewReplicaCount = int32Ptr(1)
	})
	w.settleWatchingActive()
	w.setImage("demo:v2")
	w.settleWatchingActive()
	w.expectReplicas(map[string]int32{"rev1": 3, "rev2": 1})
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonBlueGreenPause))
	w.ro.Status.PromoteFull = true
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if w.services["active"].Spec.Selector[v1alpha1.LabelPodTemplateHash] != w.hash() {
		t.Fatal("promote --full did not switch the active Service")
	}
	if w.ro.Status.PromoteFull {
		t.Fatal("promoteFull was not reset")
	}
}

func TestBlueGreenNeverSwitchesToABrokenRevision(t *testing.T) {
	w := blueGreenWorld(t, nil) // automatic promotion
	w.settleWatchingActive()
	blue := w.hash()
	w.setImage("demo:broken")
	w.broken[w.hash()] = true
	w.settleWatchingActive()
	if got := w.serviceHashes(); got["active"] != blue {
		t.Fatalf("active selects %s, want the old %s", got["active"], blue)
	}
	w.expectPhase(v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageActiveCutover)
}

func TestBlueGreenUpdateWhileInPreview(t *testing.T) {
	w := blueGreenWorld(t, manualPromotion)
	w.settleWatchingActive()
	blue := w.hash()
	w.advance(time.Minute)
	w.setImage("demo:v2")
	w.settleWatchingActive()
	w.advance(time.Minute)
	w.setImage("demo:v3")
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonBlueGreenPause))
	if got := w.serviceHashes(); got["active"] != blue || got["preview"] != w.hash() {
		t.Fatalf("services %v, want active=%s preview=%s", got, blue, w.hash())
	}
	w.advance(31 * time.Second)
	w.settleWatchingActive()
	// v2 was never active: it goes once its delay has passed.
	w.expectReplicas(map[string]int32{"rev1": 3, "rev3": 3})
}

func TestSwitchingBetweenCanaryAndBlueGreen(t *testing.T) {
	w := blueGreenWorld(t, manualPromotion)
	bg := w.ro.Spec.Strategy.BlueGreen
	w.ro.Spec.Strategy = v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: []v1alpha1.CanaryStep{setWeight(50), pauseFor("")}}}
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")

	// To blue-green: the running revision becomes active without a release.
	w.ro.Spec.Strategy = v1alpha1.RolloutStrategy{BlueGreen: bg}
	w.ro.Generation++
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if w.serviceHashes()["active"] != w.hash() || len(w.rss) != 1 {
		t.Fatalf("after switching to blue-green: services %v, ReplicaSets %v", w.serviceHashes(), w.replicaCounts())
	}
	if w.ro.Status.CurrentStepIndex != nil || w.ro.Status.CurrentStepHash != "" {
		t.Fatalf("blue-green status keeps canary fields: %+v", w.ro.Status)
	}

	// And back to canary.
	w.ro.Spec.Strategy = v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: []v1alpha1.CanaryStep{setWeight(50), pauseFor("")}}}
	w.ro.Generation++
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectReplicas(map[string]int32{"rev1": 3})
}

// As in Argo Rollouts: setting a blue-green back to the revision it just
// left, while that one still waits out its scale-down delay, switches to it
// at once, without the pause a new revision gets.
func TestBlueGreenRollbackToARevisionStillRunningSkipsThePause(t *testing.T) {
	w := blueGreenWorld(t, manualPromotion)
	w.settleWatchingActive()
	blue := w.hash()
	w.advance(time.Minute)
	w.setImage("demo:v2")
	w.settleWatchingActive()
	w.promote()
	w.settleWatchingActive()
	w.advance(10 * time.Second) // blue waits until 30s after the switch

	w.setImage("demo:v1")
	w.settleWatchingActive()

	if got := w.serviceHashes(); got["active"] != blue {
		t.Fatalf("active selects %s, want the rolled-back %s without a pause", got["active"], blue)
	}
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if w.ro.Status.StableRS != blue {
		t.Fatalf("stableRS = %s, want %s", w.ro.Status.StableRS, blue)
	}
}

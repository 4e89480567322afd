package plan

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// The most ordinary edit there is changes the image and spec.replicas in one
// apply. The scaling part of it must never carry the old revision's step
// index onto the new one.

// countEvents counts the events of a reason recorded so far.
func (w *world) countEvents(reason string) int {
	n := 0
	for _, e := range w.events {
		if e.Reason == reason {
			n++
		}
	}
	return n
}

func (w *world) setImageAndReplicas(image string, replicas int32) {
	w.ro.Spec.Template.Spec.Containers[0].Image = image
	w.ro.Spec.Replicas = &replicas
	w.ro.Generation++
}

func TestAnImageAndReplicasEditStillStopsAtTheFirstPause(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor(""), setWeight(60), pauseFor("30s")))
	w.settle()
	stable := w.hash()
	completed := w.countEvents(v1alpha1.EventRolloutCompleted)

	w.setImageAndReplicas("demo:v2", 10)
	w.settle()

	// 20% of the new ten pods: two on the new revision, eight on the stable.
	w.expectReplicas(map[string]int32{"rev1": 8, "rev2": 2})
	w.expectStep(1)
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonCanaryPauseStep))
	if w.ro.Status.StableRS != stable {
		t.Fatalf("the new revision became stable without passing a step: stableRS %s, want %s", w.ro.Status.StableRS, stable)
	}
	if got := w.countEvents(v1alpha1.EventRolloutCompleted); got != completed {
		t.Fatalf("the edit completed the rollout (%d RolloutCompleted events, want %d)", got, completed)
	}
}

func TestAnImageAndReplicasEditBehindIstioStillStopsAtTheFirstPause(t *testing.T) {
	w := istioWorld(t, setWeight(20), pauseFor(""), setWeight(60))
	w.settle()
	w.setImageAndReplicas("demo:v2", 10)
	w.settle()

	w.expectStep(1)
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonCanaryPauseStep))
	w.expectWeights(80, 20)
	if w.ro.Status.StableRS == w.hash() {
		t.Fatal("the new revision became stable without passing a step")
	}
	if rs := w.rss["demo-"+w.hash()]; rsReplicas(rs) != 2 {
		t.Fatalf("the canary runs %d pods, want 2 (20%% of 10)", rsReplicas(rs))
	}
}

func TestAReplicasOnlyEditMidCanaryKeepsTheStep(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor(""), setWeight(60)))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.expectStep(1)

	w.ro.Spec.Replicas = int32Ptr(10)
	w.ro.Generation++
	w.settle()
	w.expectStep(1)
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonCanaryPauseStep))
	w.expectReplicas(map[string]int32{"rev1": 8, "rev2": 2})
}

func TestABlueGreenImageAndReplicasEditWaitsAtThePreview(t *testing.T) {
	w := blueGreenWorld(t, manualPromotion)
	w.settleWatchingActive()
	active := w.hash()

	w.setImageAndReplicas("demo:v2", 5)
	w.settle()

	if got := w.serviceHashes(); got["active"] != active || got["preview"] != w.hash() {
		t.Fatalf("services select %v, want active on %s and preview on the new %s", got, active, w.hash())
	}
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonBlueGreenPause))
	if w.ro.Status.StableRS != active {
		t.Fatalf("the new revision became stable without a promotion: stableRS %s", w.ro.Status.StableRS)
	}
	w.expectReplicas(map[string]int32{"rev1": 5, "rev2": 5})
}

func TestAbortingAFullyPromotedCanaryLeavesItHealthy(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor("")))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.promote()
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")

	w.ro.Status.Abort = true // kubectl argo rollouts abort on a finished rollout
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectReplicas(map[string]int32{"rev1": 0, "rev2": 5})
	if w.ro.Status.Abort || w.ro.Status.AbortedAt != nil {
		t.Fatalf("the abort stayed on a fully promoted rollout: abort=%v abortedAt=%v", w.ro.Status.Abort, w.ro.Status.AbortedAt)
	}
}

func TestAbortingAFullyPromotedCanaryBehindIstioKeepsTrafficWhereItIs(t *testing.T) {
	w := istioWorld(t, setWeight(20), pauseFor(""))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.promote()
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectWeights(100, 0)

	w.ro.Status.Abort = true
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectWeights(100, 0)
	if rs := w.rss["demo-"+w.hash()]; rsReplicas(rs) != 5 {
		t.Fatalf("the promoted revision runs %d pods after the abort, want 5", rsReplicas(rs))
	}
}

func TestAbortingAFullyPromotedBlueGreenLeavesItHealthy(t *testing.T) {
	w := blueGreenWorld(t, manualPromotion)
	w.settleWatchingActive()
	w.ro.Status.Abort = true
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if w.ro.Status.Abort {
		t.Fatal("the abort stayed on a fully promoted blue-green rollout")
	}
	if got := w.serviceHashes(); got["active"] != w.hash() {
		t.Fatalf("the active Service moved off the promoted revision: %v", got)
	}
}

func TestEphemeralContainersStayOutOfTheReplicaSet(t *testing.T) {
	ro := canaryRollout()
	ro.Spec.Template.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
	w := newWorld(t, ro)
	p := w.step()
	if p.Create == nil || len(p.Create.Spec.Template.Spec.EphemeralContainers) != 0 || len(p.Create.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("ReplicaSet template %+v; the API server refuses ephemeral containers there", p.Create)
	}
}

package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// The events a canary records, in order, are Argo Rollouts' (notification
// triggers and tools that compare event streams rely on them): a first
// deploy, an update that pauses, an abort, a retry and a timed pause that
// ends by itself.
func TestACanaryRecordsArgoRolloutsEventsInTheirOrder(t *testing.T) {
	ro := canaryRollout(setWeight(50), pauseFor("3s"))
	ro.Spec.Replicas = int32Ptr(1)
	w := newWorld(t, ro)
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.ro.Status.Abort = true // kubectl argo rollouts abort
	w.settle()
	w.ro.Status.Abort = false // kubectl argo rollouts retry
	w.settle()
	w.advance(4 * time.Second)
	w.settle()

	var got []string
	for _, e := range w.events {
		got = append(got, e.Reason)
	}
	want := []string{
		"RolloutAddedToInformer",
		"RolloutNotCompleted",
		"RolloutUpdated",
		"NewReplicaSetCreated",
		"ScalingReplicaSet",
		"RolloutCompleted",
		"RolloutNotCompleted",
		"RolloutUpdated",
		"NewReplicaSetCreated",
		"ScalingReplicaSet",
		"RolloutStepCompleted",
		"RolloutPaused",
		"ScalingReplicaSet",
		"RolloutAborted",
		"ScalingReplicaSet",
		"RolloutStepCompleted",
		"RolloutPaused",
		"RolloutStepCompleted",
		"RolloutResumed",
		"ScalingReplicaSet",
		"RolloutCompleted",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n  %s\nwant Argo Rollouts' order:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if w.events[1].Message != "Rollout not completed, started update to revision 0 ("+w.events[4].Message[len("Scaled up ReplicaSet demo-"):len("Scaled up ReplicaSet demo-")+10]+")" {
		t.Errorf("first RolloutNotCompleted says %q", w.events[1].Message)
	}
	if w.events[11].Message != "Rollout is paused (CanaryPauseStep)" || w.events[18].Message != v1alpha1.MessageRolloutResumed {
		t.Errorf("pause/resume messages %q / %q", w.events[11].Message, w.events[18].Message)
	}
}

// A blue-green Rollout records Argo Rollouts' blue-green sequence, which
// differs from the canary's: no RolloutNotCompleted on the first deploy, and
// on an update it follows NewReplicaSetCreated.
func TestABlueGreenRecordsArgoRolloutsEventsInTheirOrder(t *testing.T) {
	w := blueGreenWorld(t, func(bg *v1alpha1.BlueGreenStrategy) { bg.PreviewService = "" })
	delete(w.services, "preview")
	w.settleWatchingActive()
	w.setImage("demo:v2")
	w.settleWatchingActive()

	var got []string
	for _, e := range w.events {
		got = append(got, e.Reason)
	}
	want := []string{
		"RolloutAddedToInformer",
		"RolloutUpdated",
		"NewReplicaSetCreated",
		"ScalingReplicaSet",
		"RolloutCompleted",
		"SwitchService",
		"RolloutUpdated",
		"NewReplicaSetCreated",
		"RolloutNotCompleted",
		"ScalingReplicaSet",
		"SwitchService",
		"RolloutCompleted",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n  %s\nwant Argo Rollouts' order:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

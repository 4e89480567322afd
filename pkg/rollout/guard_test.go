package rollout

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
)

var (
	demoKey     = cache.ObjectName{Namespace: "default", Name: "demo"}
	rolloutsGVR = v1alpha1.SchemeGroupVersion.WithResource("rollouts")
)

// cacheReplicaSets lets the ReplicaSet cache catch up with the API, as the
// informer would.
func cacheReplicaSets(t *testing.T, f *fixture) {
	t.Helper()
	list, err := f.kube.AppsV1().ReplicaSets("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		if err := f.rsIndex.Add(&list.Items[i]); err != nil {
			t.Fatal(err)
		}
	}
}

func countStatusPatches(f *fixture) int {
	n := 0
	for _, a := range f.rollouts.Actions() {
		if p, ok := a.(k8stesting.PatchAction); ok && p.GetSubresource() == "status" {
			n++
		}
	}
	return n
}

func TestAStatusPatchTheAPIServerPrunedDoesNotStallTheRollout(t *testing.T) {
	// On a CRD that lacks a field of the patch, the API server drops it and
	// answers with the object as it was, resourceVersion included. No watch
	// event follows, so the next reconcile must not wait for one.
	f := newFixture(t, demoRollout())
	f.rollouts.PrependReactor("patch", "rollouts", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "status" {
			return false, nil, nil
		}
		obj, err := f.rollouts.Tracker().Get(action.GetResource(), "default", "demo")
		return true, obj, err
	})
	// The metadata patch (revision annotation) changes the object; keep the
	// cache at its result so only the pruned status write is in question.
	f.reconcile("demo")
	ro, err := f.rollouts.ArgoprojV1alpha1().Rollouts("default").Get(context.Background(), "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.roIndex.Update(ro)
	cacheReplicaSets(t, f)
	before := countStatusPatches(f)
	f.reconcile("demo")
	if got := countStatusPatches(f); got != before+1 {
		t.Fatalf("the reconcile after a pruned status write was skipped: %d status patches, want %d", got, before+1)
	}
}

func TestAReconcileSkippedBehindOurOwnWriteComesBack(t *testing.T) {
	// A timer (a pause ending) that fires while the cache still shows the
	// version before our write must not be lost: the skipped reconcile asks
	// to come back when the guard expires, if no event brings it earlier.
	f := newFixture(t, demoRollout())
	f.reconcile("demo")
	cacheReplicaSets(t, f)
	f.kube.ClearActions()
	f.rollouts.ClearActions()
	res, err := f.r.Reconcile(context.Background(), demoKey)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.writes()); n != 0 {
		t.Fatalf("a reconcile from a cache behind our own write wrote %d times: %v", n, f.writes())
	}
	if res.RequeueAfter != controller.WriteGuardTTL {
		t.Fatalf("skipped reconcile asked to come back after %v, want %v", res.RequeueAfter, controller.WriteGuardTTL)
	}
	f.clock.Step(controller.WriteGuardTTL)
	f.reconcile("demo")
	if len(f.writes()) == 0 {
		t.Fatal("once the guard expired, the reconcile was still skipped")
	}
}

func TestADeletedRolloutEndsItsKeysWork(t *testing.T) {
	// The cache still shows the Rollout, but the API server has deleted it:
	// the write answers NotFound, and the key must not be retried forever.
	f := newFixture(t, demoRollout())
	if err := f.rollouts.Tracker().Delete(rolloutsGVR, "default", "demo"); err != nil {
		t.Fatal(err)
	}
	res, err := f.r.Reconcile(context.Background(), demoKey)
	if err != nil {
		t.Fatalf("a NotFound on our own Rollout was returned as an error (retried with backoff forever): %v", err)
	}
	if res.RequeueAfter != 0 {
		t.Fatalf("a deleted Rollout asked to come back after %v", res.RequeueAfter)
	}
}

package rollout

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutfake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/controller/controllertest"
)

// fixture holds a Reconciler over fake clients whose listers are filled by
// hand, the way informers would fill them.
type fixture struct {
	t        testing.TB
	kube     *kubefake.Clientset
	rollouts *rolloutfake.Clientset
	roIndex  cache.Indexer
	rsIndex  cache.Indexer
	svcIndex cache.Indexer
	recorder *record.FakeRecorder
	clock    *clocktesting.FakeClock
	r        *Reconciler
}

func newFixture(t testing.TB, objs ...runtime.Object) *fixture {
	f := &fixture{
		t:       t,
		roIndex: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
		rsIndex: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc,
			controller.OwnerIndex: controller.OwnerIndexFunc}),
		svcIndex: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
		recorder: record.NewFakeRecorder(100),
		clock:    clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
	}
	var kubeObjs, roObjs []runtime.Object
	for _, o := range objs {
		switch obj := o.(type) {
		case *v1alpha1.Rollout:
			roObjs = append(roObjs, obj)
			f.roIndex.Add(obj)
		case *appsv1.ReplicaSet:
			kubeObjs = append(kubeObjs, obj)
			f.rsIndex.Add(obj)
		case *corev1.Service:
			kubeObjs = append(kubeObjs, obj)
			f.svcIndex.Add(obj)
		}
	}
	f.kube = kubefake.NewClientset(kubeObjs...)
	f.rollouts = rolloutfake.NewSimpleClientset(roObjs...)
	controllertest.Versioned(&f.rollouts.Fake, f.rollouts.Tracker())
	f.r = NewReconciler(Options{
		KubeClient:       f.kube,
		RolloutClient:    f.rollouts,
		RolloutLister:    rolloutlisters.NewRolloutLister(f.roIndex),
		ReplicaSetLister: appslisters.NewReplicaSetLister(f.rsIndex),
		ServiceLister:    corelisters.NewServiceLister(f.svcIndex),
		OwnedReplicaSets: f.rsIndex,
		Recorder:         f.recorder,
		Clock:            f.clock,
	})
	return f
}

func (f *fixture) reconcile(name string) {
	f.t.Helper()
	if _, err := f.r.Reconcile(context.Background(), cache.ObjectName{Namespace: "default", Name: name}); err != nil {
		f.t.Fatalf("reconcile: %v", err)
	}
}

// writes lists the mutating requests the clients received.
func (f *fixture) writes() []k8stesting.Action {
	var out []k8stesting.Action
	for _, a := range append(f.kube.Actions(), f.rollouts.Actions()...) {
		switch a.GetVerb() {
		case "get", "list", "watch":
			continue
		}
		out = append(out, a)
	}
	return out
}

func demoRollout() *v1alpha1.Rollout {
	replicas := int32(3)
	w := int32(50)
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "default", UID: "uid-1", Generation: 1, ResourceVersion: "10"},
		Spec: v1alpha1.RolloutSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "demo"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "demo"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "demo:v1"}}},
			},
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				Steps: []v1alpha1.CanaryStep{{SetWeight: &w}, {Pause: &v1alpha1.RolloutPause{}}},
			}},
		},
	}
}

func TestFirstReconcileCreatesTheReplicaSetAndPatchesStatusOnce(t *testing.T) {
	f := newFixture(t, demoRollout())
	f.reconcile("demo")

	var creates, statusPatches, rolloutPatches int
	for _, a := range f.writes() {
		switch act := a.(type) {
		case k8stesting.CreateAction:
			rs := act.GetObject().(*appsv1.ReplicaSet)
			creates++
			if *rs.Spec.Replicas != 3 || rs.OwnerReferences[0].UID != "uid-1" || !*rs.OwnerReferences[0].Controller {
				t.Errorf("created ReplicaSet %+v", rs)
			}
		case k8stesting.PatchAction:
			if act.GetSubresource() == "status" {
				statusPatches++
				var body map[string]map[string]any
				if err := json.Unmarshal(act.GetPatch(), &body); err != nil {
					t.Fatal(err)
				}
				if body["metadata"]["resourceVersion"] == nil {
					t.Errorf("status patch without a resourceVersion precondition: %s", act.GetPatch())
				}
				if body["status"]["observedGeneration"] != "1" {
					t.Errorf("status patch must write observedGeneration as the string \"1\": %s", act.GetPatch())
				}
			} else {
				rolloutPatches++
			}
		}
	}
	if creates != 1 || statusPatches != 1 || rolloutPatches != 1 {
		t.Fatalf("creates=%d statusPatches=%d rolloutPatches=%d, want 1 each; writes %v", creates, statusPatches, rolloutPatches, f.writes())
	}
	events := drain(f.recorder)
	if len(events) == 0 {
		t.Fatal("no events recorded")
	}
}

func TestConvergedRolloutCostsNoRequests(t *testing.T) {
	// Run the first reconcile, then feed its results back as an informer would.
	f := newFixture(t, demoRollout())
	f.reconcile("demo")
	ro, err := f.rollouts.ArgoprojV1alpha1().Rollouts("default").Get(context.Background(), "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rsList, err := f.kube.AppsV1().ReplicaSets("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs := rsList.Items[0].DeepCopy()
	rs.Status = appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
	f = newFixture(t, ro, rs)
	for i := 0; i < 5; i++ {
		// Each reconcile's output becomes the next one's input until nothing changes.
		f.reconcile("demo")
		updated, _ := f.rollouts.ArgoprojV1alpha1().Rollouts("default").Get(context.Background(), "demo", metav1.GetOptions{})
		f.roIndex.Update(updated)
	}
	f.kube.ClearActions()
	f.rollouts.ClearActions()
	f.reconcile("demo")
	if w := f.writes(); len(w) != 0 {
		t.Fatalf("a converged Rollout made %d writes: %v", len(w), w)
	}
	if n := len(f.kube.Actions()) + len(f.rollouts.Actions()); n != 0 {
		t.Fatalf("a converged Rollout made %d API requests; everything must come from listers", n)
	}
}

func drain(r *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

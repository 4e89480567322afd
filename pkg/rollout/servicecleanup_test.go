package rollout

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutfake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
)

// managedService is a Service a Rollout named owner switched to a revision.
func managedService(name, owner string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", ResourceVersion: "5",
			Annotations: map[string]string{v1alpha1.AnnotationManagedByRollouts: owner, "team": "shop"}},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "demo", v1alpha1.LabelPodTemplateHash: "abc123"}},
	}
}

type cleanupFixture struct {
	kube     *kubefake.Clientset
	rollouts cache.Indexer
	recorder *record.FakeRecorder
	r        *ServiceCleanup
}

func newCleanupFixture(t *testing.T, svc *corev1.Service, rollouts ...*v1alpha1.Rollout) *cleanupFixture {
	t.Helper()
	services := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	if err := services.Add(svc); err != nil {
		t.Fatal(err)
	}
	f := &cleanupFixture{
		kube:     kubefake.NewClientset(svc),
		rollouts: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{ServicesIndex: ServicesIndexFunc}),
		recorder: record.NewFakeRecorder(10),
	}
	for _, ro := range rollouts {
		if err := f.rollouts.Add(ro); err != nil {
			t.Fatal(err)
		}
	}
	f.r = NewServiceCleanup(ServiceCleanupOptions{KubeClient: f.kube, ServiceLister: corelisters.NewServiceLister(services), Rollouts: f.rollouts, Recorder: f.recorder})
	return f
}

func (f *cleanupFixture) reconcile(t *testing.T, name string) *corev1.Service {
	t.Helper()
	if _, err := f.r.Reconcile(context.Background(), cache.ObjectName{Namespace: "default", Name: name}); err != nil {
		t.Fatal(err)
	}
	svc, err := f.kube.CoreV1().Services("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func demoWithServices(stable, canary string) *v1alpha1.Rollout {
	ro := demoRollout()
	ro.Spec.Strategy.Canary.StableService, ro.Spec.Strategy.Canary.CanaryService = stable, canary
	return ro
}

func TestAServiceOfADeletedRolloutSelectsTheAppAgain(t *testing.T) {
	f := newCleanupFixture(t, managedService("demo-canary", "demo"))
	svc := f.reconcile(t, "demo-canary")
	if got := svc.Spec.Selector; len(got) != 1 || got["app"] != "demo" {
		t.Fatalf("selector %v, want only app=demo", got)
	}
	if _, ok := svc.Annotations[v1alpha1.AnnotationManagedByRollouts]; ok || svc.Annotations["team"] != "shop" {
		t.Fatalf("annotations %v, want the managed-by annotation gone and the user's kept", svc.Annotations)
	}
	if len(f.recorder.Events) != 1 {
		t.Fatalf("%d events, want one ServiceReleased", len(f.recorder.Events))
	}
}

func TestAServiceItsRolloutStillUsesIsLeftAloneWithoutARequest(t *testing.T) {
	f := newCleanupFixture(t, managedService("demo-canary", "demo"), demoWithServices("demo-stable", "demo-canary"))
	f.kube.ClearActions()
	if _, err := f.r.Reconcile(context.Background(), cache.ObjectName{Namespace: "default", Name: "demo-canary"}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.kube.Actions()); n != 0 {
		t.Fatalf("%d API requests for a Service in use, want none: %v", n, f.kube.Actions())
	}
}

func TestAServiceItsRolloutNoLongerNamesIsReleased(t *testing.T) {
	// The Rollout now names other Services (or turned from blue-green to
	// canary and left its active Service).
	f := newCleanupFixture(t, managedService("demo-canary", "demo"), demoWithServices("demo-stable", "demo-preview"))
	svc := f.reconcile(t, "demo-canary")
	if _, ok := svc.Spec.Selector[v1alpha1.LabelPodTemplateHash]; ok {
		t.Fatalf("selector %v still pins a revision", svc.Spec.Selector)
	}
}

func TestAServiceNoRolloutManagesIsNeverTouched(t *testing.T) {
	svc := managedService("web", "demo")
	delete(svc.Annotations, v1alpha1.AnnotationManagedByRollouts)
	f := newCleanupFixture(t, svc)
	f.kube.ClearActions()
	if _, err := f.r.Reconcile(context.Background(), cache.ObjectName{Namespace: "default", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.kube.Actions()); n != 0 {
		t.Fatalf("%d API requests for a Service no Rollout manages: %v", n, f.kube.Actions())
	}
}

func TestRolloutServicesNamesTheServicesToLookAt(t *testing.T) {
	got := RolloutServices(demoWithServices("demo-stable", "demo-canary"))
	if len(got) != 2 || got[0].Name != "demo-stable" || got[1].Name != "demo-canary" || got[0].Namespace != "default" {
		t.Fatalf("RolloutServices = %v", got)
	}
	if RolloutServices(&corev1.Service{}) != nil {
		t.Fatal("a non-Rollout maps to Services")
	}
}

func TestAServiceOfAnotherInstancesRolloutIsLeftAlone(t *testing.T) {
	// With --instance-id, the cache holds only this instance's Rollouts: a
	// Service managed by a live Rollout it cannot see is not released, and
	// a resync of the unchanged Service asks the API server nothing more.
	f := newCleanupFixture(t, managedService("demo-canary", "demo"))
	other := demoWithServices("demo-stable", "demo-canary")
	other.Labels = map[string]string{v1alpha1.LabelControllerInstanceID: "blue"}
	rollouts := rolloutfake.NewSimpleClientset(other)
	f.r.owners.client = rollouts
	f.kube.ClearActions()
	for range 2 {
		if _, err := f.r.Reconcile(context.Background(), cache.ObjectName{Namespace: "default", Name: "demo-canary"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.kube.Actions()); n != 0 {
		t.Fatalf("%d writes to a Service another instance manages: %v", n, f.kube.Actions())
	}
	if n := len(rollouts.Actions()); n != 1 {
		t.Fatalf("%d Rollout lookups for two reconciles of an unchanged Service, want 1", n)
	}
}

func TestAServiceWhoseRolloutIsGoneEverywhereIsReleased(t *testing.T) {
	f := newCleanupFixture(t, managedService("demo-canary", "demo"))
	f.r.o.RolloutClient = rolloutfake.NewSimpleClientset()
	if svc := f.reconcile(t, "demo-canary"); svc.Spec.Selector[v1alpha1.LabelPodTemplateHash] != "" {
		t.Fatalf("selector %v still pins a revision", svc.Spec.Selector)
	}
}

package experiment

import (
	"context"
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

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture runs the Reconciler against fake clients; sync copies what the
// clients hold into the caches, as the informers would.
type fixture struct {
	t             *testing.T
	kube          *kubefake.Clientset
	argo          *rolloutfake.Clientset
	experiments   cache.Indexer
	rs, svc, runs cache.Indexer
	templates     cache.Indexer
	clock         *clocktesting.FakeClock
	recorder      *record.FakeRecorder
	r             *Reconciler
}

func newFixture(t *testing.T, kubeObjs []runtime.Object, argoObjs ...runtime.Object) *fixture {
	owner := cache.Indexers{controller.OwnerIndex: controller.OwnerIndexFunc}
	f := &fixture{
		t: t, kube: kubefake.NewSimpleClientset(kubeObjs...), argo: rolloutfake.NewSimpleClientset(argoObjs...),
		experiments: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		rs:          cache.NewIndexer(cache.MetaNamespaceKeyFunc, owner),
		svc:         cache.NewIndexer(cache.MetaNamespaceKeyFunc, owner),
		runs:        cache.NewIndexer(cache.MetaNamespaceKeyFunc, owner),
		templates:   cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		clock:       clocktesting.NewFakeClock(t0),
		recorder:    record.NewFakeRecorder(1000),
	}
	controllertest.Versioned(&f.kube.Fake, f.kube.Tracker())
	controllertest.Versioned(&f.argo.Fake, f.argo.Tracker())
	f.restart()
	f.sync()
	return f
}

// restart makes a new Reconciler, as a controller restart would.
func (f *fixture) restart() {
	f.r = NewReconciler(Options{
		KubeClient: f.kube, Client: f.argo,
		Lister:      rolloutlisters.NewExperimentLister(f.experiments),
		ReplicaSets: f.rs, Services: f.svc, AnalysisRuns: f.runs,
		ReplicaSetLister:       appslisters.NewReplicaSetLister(f.rs),
		ServiceLister:          corelisters.NewServiceLister(f.svc),
		AnalysisTemplateLister: rolloutlisters.NewAnalysisTemplateLister(f.templates),
		Recorder:               f.recorder,
		Clock:                  f.clock,
	})
}

// sync replaces the caches' content with the clients'.
func (f *fixture) sync() {
	ctx := context.Background()
	exs, _ := f.argo.ArgoprojV1alpha1().Experiments("").List(ctx, metav1.ListOptions{})
	runs, _ := f.argo.ArgoprojV1alpha1().AnalysisRuns("").List(ctx, metav1.ListOptions{})
	tmpls, _ := f.argo.ArgoprojV1alpha1().AnalysisTemplates("").List(ctx, metav1.ListOptions{})
	sets, _ := f.kube.AppsV1().ReplicaSets("").List(ctx, metav1.ListOptions{})
	svcs, _ := f.kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	replace := func(idx cache.Indexer, items []any) {
		if err := idx.Replace(items, ""); err != nil {
			f.t.Fatal(err)
		}
	}
	replace(f.experiments, items(exs.Items))
	replace(f.runs, items(runs.Items))
	replace(f.templates, items(tmpls.Items))
	replace(f.rs, items(sets.Items))
	replace(f.svc, items(svcs.Items))
	f.kube.ClearActions()
	f.argo.ClearActions()
}

func items[T any](list []T) []any {
	out := make([]any, len(list))
	for i := range list {
		out[i] = &list[i]
	}
	return out
}

// reconcile runs one reconcile and returns the write actions it sent.
func (f *fixture) reconcile() (controller.Result, []k8stesting.Action) {
	f.t.Helper()
	res, err := f.r.Reconcile(context.Background(), cache.NewObjectName("shop", "exp"))
	if err != nil {
		f.t.Fatalf("reconcile: %v", err)
	}
	var writes []k8stesting.Action
	for _, a := range append(f.kube.Actions(), f.argo.Actions()...) {
		if a.GetVerb() != "get" && a.GetVerb() != "list" && a.GetVerb() != "watch" {
			writes = append(writes, a)
		}
	}
	f.kube.ClearActions()
	f.argo.ClearActions()
	return res, writes
}

// kubelet makes the pods of every ReplicaSet available.
func (f *fixture) kubelet() {
	ctx := context.Background()
	sets, _ := f.kube.AppsV1().ReplicaSets("shop").List(ctx, metav1.ListOptions{})
	for i := range sets.Items {
		rs := &sets.Items[i]
		n := *rs.Spec.Replicas
		rs.Status = appsv1.ReplicaSetStatus{Replicas: n, ReadyReplicas: n, AvailableReplicas: n}
		if _, err := f.kube.AppsV1().ReplicaSets("shop").UpdateStatus(ctx, rs, metav1.UpdateOptions{}); err != nil {
			f.t.Fatal(err)
		}
	}
	f.kube.ClearActions()
}

func (f *fixture) experiment() *v1alpha1.Experiment {
	f.t.Helper()
	ex, err := f.argo.ArgoprojV1alpha1().Experiments("shop").Get(context.Background(), "exp", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.argo.ClearActions()
	return ex
}

func count(actions []k8stesting.Action, verb, resource string) int {
	n := 0
	for _, a := range actions {
		if a.GetVerb() == verb && a.GetResource().Resource == resource {
			n++
		}
	}
	return n
}

// newExperiment has two templates, baseline and canary, one port each.
func newExperiment() *v1alpha1.Experiment {
	ex := &v1alpha1.Experiment{ObjectMeta: metav1.ObjectMeta{Name: "exp", Namespace: "shop", UID: "uid-exp", ResourceVersion: "1"}}
	for _, n := range []string{"baseline", "canary"} {
		ex.Spec.Templates = append(ex.Spec.Templates, v1alpha1.TemplateSpec{
			Name:     n,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "variant": n}},
			Service:  &v1alpha1.TemplateService{},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "variant": n}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx",
					Ports: []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}}}}},
			},
		})
	}
	return ex
}

package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	argofake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	"github.com/serin-dev/serin/pkg/controllermetrics"
)

type keys []cache.ObjectName

func (k *keys) EnqueueKey(key cache.ObjectName) { *k = append(*k, key) }

// An Experiment follows its runs' phases, not every measurement; runs of
// Rollouts are not its business.
func TestRunPhaseChangesEnqueueTheExperiment(t *testing.T) {
	run := func(kind string, phase v1alpha1.AnalysisPhase, measurements int) *v1alpha1.AnalysisRun {
		yes := true
		r := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "exp-check", Namespace: "shop", ResourceVersion: "1",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "argoproj.io/v1alpha1", Kind: kind, Name: "exp", Controller: &yes}}}}
		r.Status.Phase = phase
		r.Status.MetricResults = make([]v1alpha1.MetricResult, measurements)
		return r
	}
	var got keys
	h := runPhaseChanges(&got)
	h.OnUpdate(run("Experiment", "Running", 1), run("Experiment", "Running", 2))
	if len(got) != 0 {
		t.Fatalf("a measurement enqueued %v", got)
	}
	h.OnUpdate(run("Experiment", "Running", 2), run("Experiment", "Failed", 2))
	h.OnAdd(run("Rollout", "", 0), false)
	h.OnDelete(cache.DeletedFinalStateUnknown{Obj: run("Experiment", "Failed", 2)})
	want := cache.NewObjectName("shop", "exp")
	if len(got) != 2 || got[0] != want || got[1] != want {
		t.Errorf("enqueued %v, want shop/exp twice", got)
	}
}

// TestExperimentsReconcileThroughTheWiring runs the real informers,
// Experiment controller and metrics against fake clientsets: the
// experiment's ReplicaSets are created and its reconciles observed.
func TestExperimentsReconcileThroughTheWiring(t *testing.T) {
	ex := &v1alpha1.Experiment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "exp", UID: "uid-exp"}}
	ex.Spec.Templates = []v1alpha1.TemplateSpec{{
		Name:     "canary",
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web:v2"}}},
		},
	}}
	kube, argo := kubefake.NewClientset(), argofake.NewSimpleClientset(ex)
	m := controllermetrics.New("test")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, parse(t, "--experiment-threads", "2"), clients{kube: kube, argo: argo, dynamic: fakeDynamic(t, ex)}, metav1.NamespaceAll, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if names := controllerNames(a); !slices.Contains(names, "Experiments") {
		t.Fatalf("controllers %v, want the Experiment controller", names)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	defer func() { cancel(); <-done }()
	err = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		rs, err := kube.AppsV1().ReplicaSets("shop").Get(ctx, "exp-canary", metav1.GetOptions{})
		return err == nil && metav1.IsControlledBy(rs, ex), nil
	})
	if err != nil {
		t.Fatalf("no ReplicaSet exp-canary controlled by the experiment: %v", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		n, err := testutil.GatherAndCount(m.Registry(), "experiment_reconcile")
		return err == nil && n > 0, nil
	})
	if err != nil {
		t.Fatalf("no experiment_reconcile observation: %v", err)
	}
}

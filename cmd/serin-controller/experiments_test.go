package main

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
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

package rollout

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// apiRunNames are the names of the AnalysisRuns the API server holds.
func apiRunNames(t *testing.T, f *fixture) []string {
	t.Helper()
	runs, err := f.rollouts.ArgoprojV1alpha1().AnalysisRuns("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs.Items {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

// restartAfterCreatingTheRun has the Rollout create its step run, then
// forgets the status write that named it and starts a new Reconciler, as
// after a controller restart: the run exists, but neither the Rollout's
// status nor the run cache shows it. change, if set, alters the run first.
func restartAfterCreatingTheRun(t *testing.T, f *analysisFixture, change func(*v1alpha1.AnalysisRun)) string {
	t.Helper()
	base := f.toStepAnalysis(t)
	before := apiRollout(t, f.fixture)
	f.reconcile("demo") // the v2 ReplicaSet and its step-0 run
	catchUpReplicaSets(t, f.fixture)
	if got := apiRunNames(t, f.fixture); !slices.Equal(got, []string{base}) {
		t.Fatalf("runs %v after the analysis step started, want %s", got, base)
	}
	if change != nil {
		run, err := f.rollouts.ArgoprojV1alpha1().AnalysisRuns("default").Get(context.Background(), base, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(run)
		if err := f.rollouts.Tracker().Update(v1alpha1.SchemeGroupVersion.WithResource("analysisruns"), run, "default"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.rollouts.Tracker().Update(rolloutsGVR, before, "default"); err != nil {
		t.Fatal(err)
	}
	f.r = NewReconciler(f.r.o)
	f.rollouts.ClearActions()
	f.reconcile("demo")
	return base
}

func TestOurOwnAnalysisRunFoundOnCreateIsAdoptedNotCopied(t *testing.T) {
	f := newAnalysisFixture(t)
	base := restartAfterCreatingTheRun(t, f, nil)

	if got := apiRunNames(t, f.fixture); !slices.Equal(got, []string{base}) {
		t.Fatalf("runs %v, want only the run created before the restart", got)
	}
	st := apiRollout(t, f.fixture).Status.Canary.CurrentStepAnalysisRunStatus
	if st == nil || st.Name != base {
		t.Fatalf("status.canary.currentStepAnalysisRunStatus = %+v, want it to name %s", st, base)
	}
}

func TestOurOwnFinishedAnalysisRunIsNotTakenUpAgain(t *testing.T) {
	// As when the plan sees it: a run of ours that was terminated (an
	// aborted, retried update) is history, and a new run starts.
	f := newAnalysisFixture(t)
	base := restartAfterCreatingTheRun(t, f, func(run *v1alpha1.AnalysisRun) { run.Spec.Terminate = true })

	if got := apiRunNames(t, f.fixture); !slices.Equal(got, []string{base, base + ".1"}) {
		t.Fatalf("runs %v, want the terminated one and a new one", got)
	}
	if st := apiRollout(t, f.fixture).Status.Canary.CurrentStepAnalysisRunStatus; st == nil || st.Name != base+".1" {
		t.Fatalf("status.canary.currentStepAnalysisRunStatus = %+v, want it to name %s.1", st, base)
	}
}

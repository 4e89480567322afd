package rollout

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutfake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	"github.com/serin-dev/serin/pkg/event"
	"github.com/serin-dev/serin/pkg/rollout/plan"
)

func experimentRollout() *v1alpha1.Rollout {
	return &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "default", UID: "rollout-uid"}}
}

func plannedExperiment(ro *v1alpha1.Rollout, name string) *v1alpha1.Experiment {
	return &v1alpha1.Experiment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default",
			Labels:          map[string]string{v1alpha1.LabelPodTemplateHash: "abc"},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ro, v1alpha1.SchemeGroupVersion.WithKind("Rollout"))}},
		Spec: v1alpha1.ExperimentSpec{Duration: "1m", Templates: []v1alpha1.TemplateSpec{{Name: "canary"}}},
	}
}

func experimentNames(t *testing.T, client *rolloutfake.Clientset) []string {
	t.Helper()
	list, err := client.ArgoprojV1alpha1().Experiments("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ex := range list.Items {
		names = append(names, ex.Name)
	}
	slices.Sort(names)
	return names
}

func applyPlannedExperiment(t *testing.T, existing ...runtime.Object) (*rolloutfake.Clientset, plan.Plan) {
	t.Helper()
	ro := experimentRollout()
	client := rolloutfake.NewSimpleClientset(existing...)
	r := NewReconciler(Options{RolloutClient: client})
	p := plan.Plan{CreateExperiment: plannedExperiment(ro, "demo-abc-2-1")}
	p.Status.Canary.CurrentExperiment = "demo-abc-2-1"
	p.Events = []event.Event{{Reason: v1alpha1.EventExperimentCreated, Message: "Created Experiment 'demo-abc-2-1'"}}
	if err := r.applyExperiments(context.Background(), ro, &p); err != nil {
		t.Fatal(err)
	}
	return client, p
}

func TestAnExperimentNameTakenByAnotherOwnerGetsTheNextName(t *testing.T) {
	foreign := plannedExperiment(&v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "other", UID: "other-uid"}}, "demo-abc-2-1")
	client, p := applyPlannedExperiment(t, foreign)
	if got := experimentNames(t, client); !slices.Equal(got, []string{"demo-abc-2-1", "demo-abc-2-1-1"}) {
		t.Fatalf("experiments %v", got)
	}
	if p.Status.Canary.CurrentExperiment != "demo-abc-2-1-1" || p.Events[0].Message != "Created Experiment 'demo-abc-2-1-1'" {
		t.Fatalf("status names %q, event %q", p.Status.Canary.CurrentExperiment, p.Events[0].Message)
	}
}

func TestOurOwnRunningExperimentFoundOnCreateIsTakenUp(t *testing.T) {
	ours := plannedExperiment(experimentRollout(), "demo-abc-2-1")
	client, p := applyPlannedExperiment(t, ours)
	if got := experimentNames(t, client); !slices.Equal(got, []string{"demo-abc-2-1"}) {
		t.Fatalf("experiments %v, want only the one made before", got)
	}
	if p.Status.Canary.CurrentExperiment != "demo-abc-2-1" {
		t.Fatalf("status names %q", p.Status.Canary.CurrentExperiment)
	}
}

func TestOurOwnFinishedExperimentIsNotTakenUpAgain(t *testing.T) {
	ours := plannedExperiment(experimentRollout(), "demo-abc-2-1")
	ours.Status.Phase = v1alpha1.AnalysisPhaseFailed
	client, _ := applyPlannedExperiment(t, ours)
	if got := experimentNames(t, client); !slices.Equal(got, []string{"demo-abc-2-1", "demo-abc-2-1-1"}) {
		t.Fatalf("experiments %v, want the failed one and a new one", got)
	}
}

func TestExperimentsAreTerminatedByMergePatchAndDeleted(t *testing.T) {
	ro := experimentRollout()
	running, old := plannedExperiment(ro, "running"), plannedExperiment(ro, "old")
	client := rolloutfake.NewSimpleClientset(running, old)
	r := NewReconciler(Options{RolloutClient: client})
	gone := plannedExperiment(ro, "gone")
	p := plan.Plan{TerminateExperiments: []*v1alpha1.Experiment{running, gone}, DeleteExperiments: []*v1alpha1.Experiment{old, gone}}
	if err := r.applyExperiments(context.Background(), ro, &p); err != nil {
		t.Fatalf("an Experiment already gone is not an error: %v", err)
	}
	got, err := client.ArgoprojV1alpha1().Experiments("default").Get(context.Background(), "running", metav1.GetOptions{})
	if err != nil || !got.Spec.Terminate {
		t.Fatalf("running experiment not terminated: %v %+v", err, got)
	}
	if names := experimentNames(t, client); !slices.Equal(names, []string{"running"}) {
		t.Fatalf("experiments %v", names)
	}
}

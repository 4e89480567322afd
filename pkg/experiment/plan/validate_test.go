package plan

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Bad input ends the experiment in Error, with InvalidSpec naming the
// field, and plans nothing.
func TestInvalidSpecErrorsAndCreatesNothing(t *testing.T) {
	for name, tc := range invalidCases {
		t.Run(name, func(t *testing.T) {
			ex := experiment("a", "b")
			tc.edit(ex)
			w := newWorld(t, ex)
			p := w.step()
			if p.writes() {
				t.Errorf("writes planned: %+v", p)
			}
			w.wantPhase(v1alpha1.AnalysisPhaseError, tc.want)
			cond := w.ex.Status.ConditionByType(v1alpha1.InvalidExperimentSpec)
			if cond == nil || cond.Reason != "InvalidSpec" || cond.Message != tc.want {
				t.Errorf("InvalidSpec condition %+v", cond)
			}
			if !hasEvent(p.Events, "ExperimentError", "Experiment transitioned from  -> Error") {
				t.Errorf("events %+v", p.Events)
			}
			if p = w.step(); p.writes() || len(p.Events) != 0 || !statusEqual(&w.ex.Status, &p.Status) {
				t.Errorf("a second reconcile of the invalid experiment changed something: %+v", p)
			}
		})
	}
}

// invalidCases are edits of a valid experiment and the message each gives.
var invalidCases = map[string]struct {
	edit func(*v1alpha1.Experiment)
	want string
}{
	"selector not matching labels": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Templates[1].Selector.MatchLabels["variant"] = "other"
	}, "spec.templates[1].selector: it does not match the labels of spec.templates[1].template.metadata.labels (template 'b')"},
	"repeated template name": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Templates[1].Name = "a"
	}, "Experiment exp has repeated template name 'a' in templates"},
	"no selector": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Templates[0].Selector = nil
	}, "Rollout has missing field '.Spec.Templates[0].Selector'"},
	"select all": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Templates[1].Selector = &metav1.LabelSelector{}
	}, "This experiment is selecting all pods at index 1. A non-empty selector is required."},
	"empty name": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Templates[0].Name = ""
	}, "Experiment exp has empty template name at index 0"},
	"minReadySeconds over the deadline": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Templates[0].MinReadySeconds = 601
	}, "MinReadySeconds cannot be longer than ProgressDeadlineSeconds. Check template index 0"},
	"negative replicas": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Templates[0].Replicas = int32p(-1)
	}, "spec.templates[0].replicas: must not be negative, got -1"},
	"overflowing duration": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Duration = "9999999999h"
	}, `spec.duration: time: invalid duration "9999999999h"`},
	"negative duration": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Duration = "-1s"
	}, "spec.duration: must not be negative, got -1s"},
	"negative deadline": {func(ex *v1alpha1.Experiment) {
		ex.Spec.ProgressDeadlineSeconds = int32p(-5)
		ex.Spec.Templates = ex.Spec.Templates[:0]
	}, "spec.progressDeadlineSeconds: must not be negative, got -5"},
	"negative delay": {func(ex *v1alpha1.Experiment) {
		ex.Spec.ScaleDownDelaySeconds = int32p(-1)
	}, "spec.scaleDownDelaySeconds: must not be negative, got -1"},
	"repeated analysis": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Analyses = []v1alpha1.ExperimentAnalysisTemplateRef{{Name: "x", TemplateName: "t"}, {Name: "x", TemplateName: "u"}}
	}, "spec.analyses[1].name: repeated analysis name 'x'"},
	"bad selector": {func(ex *v1alpha1.Experiment) {
		ex.Spec.Templates[0].Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Near"}}
	}, `spec.templates[0].selector: "Near" is not a valid label selector operator`},
}

// A ReplicaSet name held by a ReplicaSet that is not the template's is
// recorded as a collision, as Argo Rollouts does.
func TestReplicaSetCollision(t *testing.T) {
	w := newWorld(t, experiment("a"))
	w.outcome = Outcome{Collisions: map[string]bool{"a": true}}
	w.step()
	if ts := w.template("a"); ts.CollisionCount == nil || *ts.CollisionCount != 1 || ts.Status != v1alpha1.TemplateStatusProgressing {
		t.Errorf("template status %+v", ts)
	}
}

// A ReplicaSet that could not be created errors its template and the
// experiment.
func TestReplicaSetCreateFailure(t *testing.T) {
	w := newWorld(t, experiment("a"))
	w.step()
	w.rs = map[string]*appsv1.ReplicaSet{}
	msg := "Failed to create ReplicaSet for template 'a': denied"
	w.outcome = Outcome{TemplateErrors: map[string]string{"a": msg}}
	w.ex.Status = v1alpha1.ExperimentStatus{Phase: v1alpha1.AnalysisPhasePending}
	w.step()
	w.wantPhase(v1alpha1.AnalysisPhaseError, msg)
}

package plan

import (
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/podhash"
)

// A timed experiment: Pending with empty ReplicaSets, scaled up on the next
// reconcile, Running once available (the duration starts), Successful when
// it ends, then scaled down after the scale-down delay.
func TestPendingRunningSuccessfulAfterDuration(t *testing.T) {
	w := newWorld(t, experiment("baseline", "canary"))
	w.ex.Spec.Duration = "5m"
	w.ex.Spec.Templates[1].Replicas = int32p(2)

	p := w.step()
	w.wantPhase(v1alpha1.AnalysisPhasePending, "")
	if len(p.CreateReplicaSets) != 2 || w.replicas("baseline") != 0 || w.replicas("canary") != 0 {
		t.Fatalf("first reconcile should create both ReplicaSets empty, got %d", len(p.CreateReplicaSets))
	}
	if !hasEvent(p.Events, "ExperimentPending", "Experiment transitioned from  -> Pending") {
		t.Errorf("no ExperimentPending event in %+v", p.Events)
	}
	if got := w.template("canary").Status; got != v1alpha1.TemplateStatusProgressing {
		t.Errorf("canary template %s, want Progressing", got)
	}

	p = w.step()
	if w.replicas("baseline") != 1 || w.replicas("canary") != 2 {
		t.Fatalf("second reconcile should scale up, got %d and %d", w.replicas("baseline"), w.replicas("canary"))
	}
	if !hasEvent(p.Events, "ScalingReplicaSet", "Scaled up ReplicaSet exp-canary from 0 to 2") {
		t.Errorf("no scaling event in %+v", p.Events)
	}
	w.wait(10 * time.Second)
	p = w.step()
	w.wantPhase(v1alpha1.AnalysisPhaseRunning, "")
	if at := w.ex.Status.AvailableAt; at == nil || !at.Time.Equal(w.now) {
		t.Fatalf("availableAt %v, want %v", at, w.now)
	}
	if p.RequeueAfter != 5*time.Minute {
		t.Errorf("requeue %v, want the whole duration", p.RequeueAfter)
	}
	if !hasEvent(p.Events, "TemplateRunning", "Template 'canary' transitioned from Progressing -> Running") {
		t.Errorf("no TemplateRunning event in %+v", p.Events)
	}

	w.wait(2 * time.Minute)
	if p = w.step(); p.RequeueAfter != 3*time.Minute || w.ex.Status.Phase != v1alpha1.AnalysisPhaseRunning {
		t.Fatalf("mid-way: phase %s, requeue %v; want Running, 3m", w.ex.Status.Phase, p.RequeueAfter)
	}
	w.wait(3 * time.Minute)
	w.step()
	w.wantPhase(v1alpha1.AnalysisPhaseSuccessful, "")
	cond := w.ex.Status.ConditionByType(v1alpha1.ExperimentProgressing)
	if cond == nil || cond.Reason != ReasonCompleted || cond.Message != `Experiment "exp" has successfully ran and completed.` {
		t.Errorf("Progressing condition %+v", cond)
	}
	wantDelayedScaleDown(t, w)
}

// wantDelayedScaleDown checks that a finished experiment keeps its pods for
// the scale-down delay, set on the ReplicaSets, and then scales to zero.
func wantDelayedScaleDown(t *testing.T, w *world) {
	t.Helper()
	p := w.step()
	if w.replicas("canary") != 2 || p.RequeueAfter != 30*time.Second {
		t.Fatalf("scale-down should wait 30s: replicas %d, requeue %v", w.replicas("canary"), p.RequeueAfter)
	}
	want := w.now.Add(30 * time.Second).Format(time.RFC3339)
	if got := w.rs["canary"].Annotations[v1alpha1.AnnotationScaleDownDeadline]; got != want {
		t.Errorf("scale-down-deadline %q, want %q", got, want)
	}
	w.wait(30 * time.Second)
	p = w.step()
	if w.replicas("canary") != 0 || w.replicas("baseline") != 0 {
		t.Fatalf("after the delay both should be at 0")
	}
	if !hasEvent(p.Events, "ScalingReplicaSet", "Scaled down ReplicaSet exp-canary from 2 to 0") {
		t.Errorf("no scale-down event in %+v", p.Events)
	}
	if p = w.settle(5); p.RequeueAfter != 0 || p.writes() {
		t.Errorf("a finished experiment should rest, got %+v", p)
	}
	w.wantPhase(v1alpha1.AnalysisPhaseSuccessful, "")
}

// The ReplicaSets are named, labelled and owned as Argo Rollouts does.
func TestReplicaSetShape(t *testing.T) {
	w := newWorld(t, experiment("canary"))
	w.ex.Spec.Templates[0].MinReadySeconds = 7
	w.step()
	rs := w.rs["canary"]
	hash := podhash.PodTemplateHash(&w.ex.Spec.Templates[0].Template, nil)
	if rs.Name != "exp-canary" || rs.Namespace != "shop" {
		t.Errorf("name %s/%s", rs.Namespace, rs.Name)
	}
	if rs.Labels[v1alpha1.LabelPodTemplateHash] != hash || rs.Spec.Template.Labels[v1alpha1.LabelPodTemplateHash] != hash ||
		rs.Spec.Selector.MatchLabels[v1alpha1.LabelPodTemplateHash] != hash || rs.Spec.Selector.MatchLabels["variant"] != "canary" {
		t.Errorf("hash %s not on labels %v, pod labels %v, selector %v", hash, rs.Labels, rs.Spec.Template.Labels, rs.Spec.Selector)
	}
	if rs.Annotations[v1alpha1.AnnotationExperimentName] != "exp" || rs.Annotations[v1alpha1.AnnotationExperimentTemplateName] != "canary" {
		t.Errorf("annotations %v", rs.Annotations)
	}
	ref := rs.OwnerReferences
	if len(ref) != 1 || ref[0].Kind != "Experiment" || ref[0].UID != "uid-exp" || ref[0].Controller == nil || !*ref[0].Controller {
		t.Errorf("owner references %+v", ref)
	}
	if rs.Spec.MinReadySeconds != 7 || *rs.Spec.Replicas != 0 {
		t.Errorf("minReadySeconds %d, replicas %d", rs.Spec.MinReadySeconds, *rs.Spec.Replicas)
	}
	if w.ex.Spec.Templates[0].Template.Labels[v1alpha1.LabelPodTemplateHash] != "" {
		t.Error("the experiment's spec was modified")
	}
}

// Without a duration the experiment runs until terminated; terminating
// ends it Successful and scales it down.
func TestNoDurationRunsUntilTerminated(t *testing.T) {
	w := newWorld(t, experiment("a"))
	w.ex.Spec.ScaleDownDelaySeconds = int32p(0)
	w.settle(10)
	w.wantPhase(v1alpha1.AnalysisPhaseRunning, "")
	w.wait(1000 * time.Hour)
	if p := w.step(); p.RequeueAfter != 0 || w.ex.Status.Phase != v1alpha1.AnalysisPhaseRunning {
		t.Fatalf("a running experiment without duration should wait for events: requeue %v, phase %s", p.RequeueAfter, w.ex.Status.Phase)
	}
	w.ex.Spec.Terminate = true
	p := w.step()
	w.wantPhase(v1alpha1.AnalysisPhaseSuccessful, "")
	if !hasEvent(p.Events, "TemplateSuccessful", "Template 'a' transitioned from Running -> Successful") {
		t.Errorf("events %+v", p.Events)
	}
	w.step()
	if w.replicas("a") != 0 {
		t.Errorf("with no delay the ReplicaSet should be scaled down at once, has %d", w.replicas("a"))
	}
	if _, ok := w.rs["a"].Annotations[v1alpha1.AnnotationScaleDownDeadline]; ok {
		t.Error("no scale-down deadline expected with scaleDownDelaySeconds 0")
	}
}

// Pods that never become available fail the template, and the experiment,
// at the progress deadline; a requeue is asked for exactly then.
func TestProgressDeadlineFails(t *testing.T) {
	w := newWorld(t, experiment("a"))
	w.ex.Spec.ProgressDeadlineSeconds = int32p(60)
	w.ready = false
	w.step()
	p := w.step() // scaled up at t0
	if p.RequeueAfter != 60*time.Second {
		t.Fatalf("requeue %v, want the progress deadline, 60s", p.RequeueAfter)
	}
	w.wait(59 * time.Second)
	w.step()
	w.wantPhase(v1alpha1.AnalysisPhasePending, "")
	w.wait(time.Second)
	p = w.step()
	msg := "Template 'a' exceeded its progressDeadlineSeconds (60)"
	if ts := w.template("a"); ts.Status != v1alpha1.TemplateStatusFailed || ts.Message != msg {
		t.Fatalf("template %s %q", ts.Status, ts.Message)
	}
	w.wantPhase(v1alpha1.AnalysisPhaseFailed, msg)
	if !hasEvent(p.Events, "ExperimentFailed", "Experiment transitioned from Pending -> Failed") ||
		!hasEvent(p.Events, "TemplateFailed", "Template 'a' transitioned from Progressing -> Failed: "+msg) {
		t.Errorf("events %+v", p.Events)
	}
	for _, e := range p.Events {
		if e.Reason == "ExperimentFailed" && !e.Warning {
			t.Error("ExperimentFailed should be a warning")
		}
	}
}

// A status that is up to date gives a plan that changes nothing.
func TestConvergedExperimentPlansNothing(t *testing.T) {
	w := newWorld(t, experiment("a", "b"))
	w.settle(10)
	w.wantPhase(v1alpha1.AnalysisPhaseRunning, "")
	before := w.ex.Status.DeepCopy()
	w.wait(time.Minute)
	p := w.step()
	if p.writes() || len(p.Events) != 0 {
		t.Errorf("converged plan has writes or events: %+v", p)
	}
	if !statusEqual(before, &p.Status) {
		t.Errorf("status changed:\n%+v\n%+v", before, p.Status)
	}
}

// retry experiment clears the status: the same ReplicaSets are scaled up
// again, without the scale-down deadline of the earlier run, and the
// experiment runs its course again.
func TestRetryRerunsOnTheSameReplicaSets(t *testing.T) {
	w := newWorld(t, experiment("a"))
	w.ex.Spec.Duration = "1m"
	w.settle(10)
	w.wait(time.Minute)
	w.settle(10)
	w.wait(30 * time.Second)
	w.settle(10)
	w.wantPhase(v1alpha1.AnalysisPhaseSuccessful, "")
	if w.replicas("a") != 0 {
		t.Fatal("not scaled down")
	}
	w.ex.Status = v1alpha1.ExperimentStatus{}
	p := w.settle(10)
	w.wantPhase(v1alpha1.AnalysisPhaseRunning, "")
	if w.replicas("a") != 1 || len(p.CreateReplicaSets) != 0 {
		t.Fatalf("replicas %d", w.replicas("a"))
	}
	if _, ok := w.rs["a"].Annotations[v1alpha1.AnnotationScaleDownDeadline]; ok {
		t.Error("the earlier run's scale-down deadline is still set")
	}
	w.wait(time.Minute)
	w.settle(10)
	w.wantPhase(v1alpha1.AnalysisPhaseSuccessful, "")
}

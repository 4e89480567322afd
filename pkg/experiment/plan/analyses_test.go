package plan

import (
	"errors"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// runningWithAnalysis is an experiment of two templates whose analysis run
// has started.
func runningWithAnalysis(t *testing.T, required bool) *world {
	t.Helper()
	w := newWorld(t, experiment("baseline", "canary"))
	w.ex.Labels = map[string]string{v1alpha1.LabelControllerInstanceID: "blue"}
	w.ex.Spec.AnalysisRunMetadata = v1alpha1.AnalysisRunMetadata{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"note": "b"}}
	w.ex.Spec.DryRun = []v1alpha1.DryRun{{MetricName: "ok"}}
	withAnalysis(w, "check", required)
	w.settle(10)
	return w
}

func TestRunStartsOnceAvailable(t *testing.T) {
	w := runningWithAnalysis(t, false)
	w.wantPhase(v1alpha1.AnalysisPhaseRunning, "")
	run := w.runs["exp-check"]
	if run == nil {
		t.Fatalf("no run exp-check among %v", w.runs)
	}
	hash := w.rs["canary"].Labels[v1alpha1.LabelPodTemplateHash]
	if a := run.Spec.Args; len(a) != 1 || a[0].Value == nil || *a[0].Value != hash {
		t.Errorf("args %+v, want hash=%s", a, hash)
	}
	if run.Labels[v1alpha1.LabelControllerInstanceID] != "blue" || run.Labels["team"] != "a" || run.Annotations["note"] != "b" {
		t.Errorf("labels %v annotations %v", run.Labels, run.Annotations)
	}
	if len(run.Spec.DryRun) != 1 || run.Spec.DryRun[0].MetricName != "ok" {
		t.Errorf("dryRun %+v", run.Spec.DryRun)
	}
	if ref := run.OwnerReferences; len(ref) != 1 || ref[0].UID != "uid-exp" || ref[0].Kind != "Experiment" {
		t.Errorf("owner %+v", ref)
	}
	if s := w.ex.Status.AnalysisRunStatusByName("check"); s == nil || s.AnalysisRun != "exp-check" || s.Phase != v1alpha1.AnalysisPhasePending {
		t.Errorf("run status %+v", s)
	}
	w.setRun("exp-check", v1alpha1.AnalysisPhaseRunning, "")
	p := w.step()
	if !hasEvent(p.Events, "AnalysisRunRunning", "AnalysisRun 'check' transitioned from Pending -> Running") {
		t.Errorf("events %+v", p.Events)
	}
}

// A run that ends badly ends the experiment with its phase and message; a
// non-required run that succeeds does not end it.
func TestRunOutcomeDecidesThePhase(t *testing.T) {
	for _, phase := range []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError, v1alpha1.AnalysisPhaseInconclusive} {
		t.Run(string(phase), func(t *testing.T) {
			w := runningWithAnalysis(t, false)
			w.setRun("exp-check", phase, "metric ok assessed "+string(phase))
			p := w.step()
			w.wantPhase(phase, "metric ok assessed "+string(phase))
			if !hasEvent(p.Events, "Experiment"+string(phase), "") {
				t.Errorf("events %+v", p.Events)
			}
			w.wait(time.Minute)
			w.step()
			if w.replicas("canary") != 1 {
				t.Fatal("scale-down waits for the delay")
			}
			w.wait(30 * time.Second)
			w.step()
			if w.replicas("canary") != 0 || w.replicas("baseline") != 0 {
				t.Errorf("ReplicaSets not scaled down after a %s run", phase)
			}
		})
	}
	w := runningWithAnalysis(t, false)
	w.setRun("exp-check", v1alpha1.AnalysisPhaseSuccessful, "")
	w.step()
	w.wantPhase(v1alpha1.AnalysisPhaseRunning, "")
}

// requiredForCompletion ends the experiment when the required run succeeds,
// even without a duration.
func TestRequiredRunEndsTheExperiment(t *testing.T) {
	w := runningWithAnalysis(t, true)
	w.setRun("exp-check", v1alpha1.AnalysisPhaseSuccessful, "")
	w.step()
	w.wantPhase(v1alpha1.AnalysisPhaseSuccessful, MessageRequiredCompleted)
	if ts := w.template("canary"); ts.Status != v1alpha1.TemplateStatusRunning {
		t.Errorf("template %s, want still Running in the reconcile that ends", ts.Status)
	}
	w.step()
	if ts := w.template("canary"); ts.Status != v1alpha1.TemplateStatusSuccessful {
		t.Errorf("template %s, want Successful once the experiment ended", ts.Status)
	}
}

// Terminating stops the runs still going, once, with an event.
func TestTerminateStopsRuns(t *testing.T) {
	w := runningWithAnalysis(t, false)
	w.setRun("exp-check", v1alpha1.AnalysisPhaseRunning, "")
	w.step()
	w.ex.Spec.Terminate = true
	p := w.step()
	if len(p.TerminateRuns) != 1 || !w.runs["exp-check"].Spec.Terminate {
		t.Fatalf("terminate runs %v", p.TerminateRuns)
	}
	if !hasEvent(p.Events, "AnalysisRunTerminating", "Terminating check (exp-check)") {
		t.Errorf("events %+v", p.Events)
	}
	w.wantPhase(v1alpha1.AnalysisPhaseSuccessful, "")
	if p = w.step(); len(p.TerminateRuns) != 0 {
		t.Errorf("a run is terminated once, got %v again", p.TerminateRuns)
	}
}

// A run name held by a finished run of ours (after retry experiment) moves
// to the next suffix; an unfinished one of ours with the same spec is taken
// up again.
func TestRunNameCollisions(t *testing.T) {
	w := runningWithAnalysis(t, false)
	w.setRun("exp-check", v1alpha1.AnalysisPhaseSuccessful, "")
	w.ex.Status = v1alpha1.ExperimentStatus{} // retry experiment
	w.settle(10)
	if s := w.ex.Status.AnalysisRunStatusByName("check"); s == nil || s.AnalysisRun != "exp-check.1" {
		t.Fatalf("rerun status %+v, want run exp-check.1", s)
	}

	w = runningWithAnalysis(t, false)
	w.ex.Status.AnalysisRuns = nil // a lost status write
	p := w.step()
	if len(p.CreateRuns) != 0 || w.ex.Status.AnalysisRunStatusByName("check").AnalysisRun != "exp-check" {
		t.Errorf("the existing run should be taken up, got creates %v", p.CreateRuns)
	}
}

// An argument placeholder the experiment cannot fill errors the analysis.
func TestUnresolvedArgumentErrors(t *testing.T) {
	w := newWorld(t, experiment("a"))
	withAnalysis(w, "check", false)
	bad := "{{templates.nope.podTemplateHash}}"
	w.ex.Spec.Analyses[0].Args[0].Value = &bad
	w.settle(10)
	w.wantPhase(v1alpha1.AnalysisPhaseError, "Failed to create AnalysisRun for analysis 'check': failed to resolve {{templates.nope.podTemplateHash}}")
	if len(w.runs) != 0 {
		t.Errorf("runs created: %v", w.runs)
	}
}

// A run that disappeared errors its analysis.
func TestLostRunErrors(t *testing.T) {
	w := runningWithAnalysis(t, false)
	delete(w.runs, "exp-check")
	w.step()
	w.wantPhase(v1alpha1.AnalysisPhaseError, `analysisruns.argoproj.io "exp-check" not found`)
}

// A failed create reported by the apply step errors the analysis; a name
// taken by someone else's run is reported as the name used.
func TestRunOutcomes(t *testing.T) {
	w := newWorld(t, experiment("canary"))
	withAnalysis(w, "check", false)
	w.settle(10)
	w.ex.Status.AnalysisRuns = nil
	w.runs = map[string]*v1alpha1.AnalysisRun{}
	w.outcome = Outcome{RunNames: map[string]string{"check": "exp-check.1"}}
	w.step()
	if s := w.ex.Status.AnalysisRunStatusByName("check"); s.AnalysisRun != "exp-check.1" {
		t.Errorf("run name %q", s.AnalysisRun)
	}
	w.ex.Status.AnalysisRuns = nil
	w.outcome = Outcome{RunErrors: map[string]string{"check": "Failed to create AnalysisRun for analysis 'check': denied"}}
	w.step()
	if s := w.ex.Status.AnalysisRunStatusByName("check"); s.Phase != v1alpha1.AnalysisPhaseError || s.Message != "Failed to create AnalysisRun for analysis 'check': denied" {
		t.Errorf("run status %+v", s)
	}
}

// A missing AnalysisTemplate errors the experiment before anything is
// created.
func TestMissingTemplateCreatesNothing(t *testing.T) {
	for _, cluster := range []bool{false, true} {
		w := newWorld(t, experiment("a", "b"))
		withAnalysis(w, "check", false)
		prefix := "AnalysisTemplate"
		if cluster {
			w.ex.Spec.Analyses[0].ClusterScope = &cluster
			prefix = "ClusterAnalysisTemplate"
		}
		w.analyses["check"] = Templates{Err: errors.New(`analysistemplate.argoproj.io "check" not found`)}
		p := w.step()
		w.wantPhase(v1alpha1.AnalysisPhasePending, "")
		if p.writes() {
			t.Errorf("writes planned: %+v", p)
		}
		w.settle(5)
		msg := prefix + ` verification failed for analysis 'check': analysistemplate.argoproj.io "check" not found`
		w.wantPhase(v1alpha1.AnalysisPhaseError, msg)
		if len(w.rs) != 0 || len(w.runs) != 0 || len(w.svc) != 0 {
			t.Errorf("objects created: %v %v %v", w.rs, w.runs, w.svc)
		}
	}
}

package plan

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func analysisStep(template string) v1alpha1.CanaryStep {
	return v1alpha1.CanaryStep{Analysis: &v1alpha1.RolloutAnalysis{
		Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: template}},
		Args:      []v1alpha1.AnalysisRunArgument{{Name: "hash", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: ptr(v1alpha1.Latest)}}},
	}}
}

func ptr[T any](v T) *T { return &v }

// sortedRunNames lists the world's AnalysisRuns by name.
func sortedRunNames(w *world) []string {
	names := w.runNames()
	slices.Sort(names)
	return names
}

func TestStepAnalysisGatesTheNextStep(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), analysisStep("success-rate"), setWeight(60)))
	w.addTemplate("success-rate")
	w.settle()
	if len(w.runs) != 0 {
		t.Fatalf("the initial deploy must not analyse, runs %v", w.runNames())
	}
	w.setImage("demo:v2")
	w.settle()
	w.expectStep(1)
	name := "demo-" + w.hash() + "-2-1"
	run, ok := w.runs[name]
	if !ok {
		t.Fatalf("no run %s among %v", name, w.runNames())
	}
	if run.Labels[v1alpha1.LabelRolloutType] != "Step" || run.Labels[v1alpha1.LabelStepIndex] != "1" ||
		run.Labels[v1alpha1.LabelPodTemplateHash] != w.hash() || run.Labels["app"] != "demo" ||
		run.Annotations[v1alpha1.AnnotationRevision] != "2" || run.OwnerReferences[0].UID != "rollout-uid" {
		t.Fatalf("run metadata: labels %v annotations %v owners %v", run.Labels, run.Annotations, run.OwnerReferences)
	}
	if got := *run.Spec.Args[0].Value; got != w.hash() {
		t.Fatalf("arg hash = %s, want the latest hash %s", got, w.hash())
	}
	if s := w.ro.Status.Canary.CurrentStepAnalysisRunStatus; s == nil || s.Name != name {
		t.Fatalf("currentStepAnalysisRunStatus = %+v", s)
	}
	w.expectPhase(v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageMoreReplicas)

	w.finishRun("Step", v1alpha1.AnalysisPhaseSuccessful, "")
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectReplicas(map[string]int32{"rev2": 5})
	w.expectEvent("AnalysisRunSuccessful")
}

func TestFailedStepAnalysisAbortsToStable(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), analysisStep("success-rate"), setWeight(60)))
	w.addTemplate("success-rate")
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.finishRun("Step", v1alpha1.AnalysisPhaseFailed, `Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)`)
	w.settle()
	want := `RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase error/failed: Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)`
	w.expectPhase(v1alpha1.RolloutPhaseDegraded, want)
	w.expectReplicas(map[string]int32{"rev1": 5})
	w.expectEvent("AnalysisRunFailed")

	// Retry starts a fresh run for the step.
	w.ro.Status.Abort = false
	w.settle()
	first := "demo-" + w.hash() + "-2-1"
	if got, want := sortedRunNames(w), []string{first, first + ".1"}; len(w.runs) != 2 || !slices.Equal(got, want) {
		t.Fatalf("retry must start a new run, runs %v, want %v", got, want)
	}
}

func TestInconclusiveAnalysisPausesUntilPromoted(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), analysisStep("success-rate"), setWeight(60)))
	w.addTemplate("success-rate")
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.finishRun("Step", v1alpha1.AnalysisPhaseInconclusive, "")
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonInconclusiveAnalysis))
	w.expectCondition(v1alpha1.RolloutPaused, corev1.ConditionTrue, v1alpha1.ReasonRolloutPaused)
	w.expectReplicas(map[string]int32{"rev1": 4, "rev2": 1})

	// kubectl argo rollouts promote on an inconclusive step run skips the step.
	next := *w.ro.Status.CurrentStepIndex + 1
	w.ro.Status.PauseConditions, w.ro.Status.ControllerPause, w.ro.Status.CurrentStepIndex = nil, false, &next
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
}

func TestFailedBackgroundAnalysisAborts(t *testing.T) {
	ro := canaryRollout(setWeight(20), pauseFor(""), setWeight(60))
	ro.Spec.Strategy.Canary.Analysis = &v1alpha1.RolloutAnalysisBackground{
		RolloutAnalysis: v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "success-rate"}}},
		StartingStep:    int32Ptr(1),
	}
	w := newWorld(t, ro)
	w.addTemplate("success-rate")
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	name := "demo-" + w.hash() + "-2"
	if _, ok := w.runs[name]; !ok {
		t.Fatalf("no background run %s among %v", name, w.runNames())
	}
	w.finishRun("Background", v1alpha1.AnalysisPhaseError, "prometheus unreachable")
	w.settle()
	if want := "RolloutAborted: Rollout aborted update to revision 2: Background analysis phase error/failed: prometheus unreachable"; w.ro.Status.Message != want {
		t.Fatalf("message = %q, want %q", w.ro.Status.Message, want)
	}
	w.expectReplicas(map[string]int32{"rev1": 5})
}

func TestMissingAnalysisTemplateIsInvalidSpec(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), analysisStep("nope")))
	p := w.step()
	c := condition(p.Status, v1alpha1.InvalidSpec)
	// DIFFERS FROM UPSTREAM: Argo Rollouts gives the template name as the
	// invalid value and says `AnalysisTemplate 'nope' not found`.
	want := `The Rollout "demo" is invalid: spec.strategy.canary.steps[1].analysis.templates: Invalid value: "": AnalysisTemplate "nope": analysistemplate "nope" not found`
	if c == nil || c.Message != want {
		t.Fatalf("InvalidSpec = %+v, want the message %q", c, want)
	}
}

func TestPromotionTerminatesARunningStepAnalysis(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), analysisStep("success-rate"), setWeight(60)))
	w.addTemplate("success-rate")
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.ro.Status.PromoteFull = true
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if got, want := sortedRunNames(w), []string{"demo-" + w.hash() + "-2-1"}; !slices.Equal(got, want) {
		t.Fatalf("runs %v, want %v", got, want)
	}
	for _, r := range w.runs {
		if !r.Spec.Terminate {
			t.Fatalf("run %s still running after promote --full", r.Name)
		}
	}
}

func prePost(pre, post bool) func(*v1alpha1.BlueGreenStrategy) {
	return func(bg *v1alpha1.BlueGreenStrategy) {
		a := &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "success-rate"}}}
		if pre {
			bg.PrePromotionAnalysis = a
		}
		if post {
			bg.PostPromotionAnalysis = a
		}
	}
}

func TestBlueGreenPrePromotionAnalysisGatesTheSwitch(t *testing.T) {
	w := blueGreenWorld(t, prePost(true, false))
	w.addTemplate("success-rate")
	w.settleWatchingActive()
	blue := w.hash()
	w.setImage("demo:v2")
	w.settleWatchingActive()
	if w.services["active"].Spec.Selector[v1alpha1.LabelPodTemplateHash] != blue {
		t.Fatal("the switch must wait for the pre-promotion analysis")
	}
	run := w.finishRun("PrePromotion", v1alpha1.AnalysisPhaseSuccessful, "")
	if want := "demo-" + w.hash() + "-2-pre"; run.Name != want {
		t.Fatalf("pre-promotion run name %s, want %s", run.Name, want)
	}
	w.settleWatchingActive()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if w.services["active"].Spec.Selector[v1alpha1.LabelPodTemplateHash] != w.hash() {
		t.Fatal("a successful pre-promotion analysis must let the switch happen")
	}
}

func TestBlueGreenFailedPostPromotionAnalysisSwitchesBack(t *testing.T) {
	w := blueGreenWorld(t, prePost(false, true))
	w.addTemplate("success-rate")
	w.settleWatchingActive()
	blue := w.hash()
	w.setImage("demo:v2")
	w.settleWatchingActive()
	if w.services["active"].Spec.Selector[v1alpha1.LabelPodTemplateHash] != w.hash() {
		t.Fatal("the switch happens before post-promotion analysis")
	}
	w.expectPhase(v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageWaitingAnalysis)
	if w.ro.Status.StableRS != blue {
		t.Fatal("stable must wait for the post-promotion analysis")
	}
	w.finishRun("PostPromotion", v1alpha1.AnalysisPhaseFailed, "error rate too high")
	w.settleWatchingActive()
	if w.services["active"].Spec.Selector[v1alpha1.LabelPodTemplateHash] != blue {
		t.Fatal("a failed post-promotion analysis must switch the active Service back")
	}
	if want := "RolloutAborted: Rollout aborted update to revision 2: Blue/green post-promotion analysis phase error/failed: error rate too high"; w.ro.Status.Message != want {
		t.Fatalf("message = %q, want %q", w.ro.Status.Message, want)
	}
}

func TestARunStartedByALostReconcileIsTakenUp(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), analysisStep("success-rate"), setWeight(60)))
	w.addTemplate("success-rate")
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	// The status write that recorded the run is lost.
	w.ro.Status.Canary.CurrentStepAnalysisRunStatus = nil
	w.settle()
	if got, want := sortedRunNames(w), []string{"demo-" + w.hash() + "-2-1"}; !slices.Equal(got, want) {
		t.Fatalf("runs %v, want only %v: a second run was started", got, want)
	}
	if s := w.ro.Status.Canary.CurrentStepAnalysisRunStatus; s == nil || s.Name != "demo-"+w.hash()+"-2-1" {
		t.Fatalf("currentStepAnalysisRunStatus = %+v", s)
	}
}

package plan

import (
	"strings"
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
	if len(w.runs) != 2 {
		t.Fatalf("retry must start a new run, runs %v", w.runNames())
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
	if !strings.Contains(w.ro.Status.Message, "Background analysis phase error/failed: prometheus unreachable") {
		t.Fatalf("message = %q", w.ro.Status.Message)
	}
	w.expectReplicas(map[string]int32{"rev1": 5})
}

func TestMissingAnalysisTemplateIsInvalidSpec(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), analysisStep("nope")))
	p := w.step()
	c := condition(p.Status, v1alpha1.InvalidSpec)
	if c == nil || !strings.Contains(c.Message, "spec.strategy.canary.steps[1].analysis.templates") || !strings.Contains(c.Message, `"nope" not found`) {
		t.Fatalf("InvalidSpec = %+v", c)
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
	if !strings.HasSuffix(run.Name, "-2-pre") {
		t.Fatalf("pre-promotion run name %s", run.Name)
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
	if !strings.Contains(w.ro.Status.Message, "Blue/green post-promotion analysis phase error/failed: error rate too high") {
		t.Fatalf("message = %q", w.ro.Status.Message)
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
	if len(w.runs) != 1 {
		t.Fatalf("a second run was started: %v", w.runNames())
	}
	if s := w.ro.Status.Canary.CurrentStepAnalysisRunStatus; s == nil || s.Name != "demo-"+w.hash()+"-2-1" {
		t.Fatalf("currentStepAnalysisRunStatus = %+v", s)
	}
}

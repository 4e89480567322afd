package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// applyExperiments does what the reconciler and the Experiment controller's
// API server would do with a plan's Experiment writes.
func (w *world) applyExperiments(p Plan) {
	if ex := p.CreateExperiment; ex != nil {
		if _, exists := w.experiments[ex.Name]; exists {
			w.t.Fatalf("plan creates Experiment %s, which exists", ex.Name)
		}
		ex = ex.DeepCopy()
		w.uid++
		ex.CreationTimestamp = metav1.NewTime(w.now.Add(time.Duration(w.uid) * time.Second))
		w.experiments[ex.Name] = ex
	}
	for _, ex := range p.TerminateExperiments {
		w.experiments[ex.Name].Spec.Terminate = true
	}
	for _, ex := range p.DeleteExperiments {
		delete(w.experiments, ex.Name)
	}
}

// setExperiment plays the Experiment controller: the Rollout's current
// Experiment moves to phase, its templates get Services and hashes.
func (w *world) setExperiment(phase v1alpha1.AnalysisPhase, message string) *v1alpha1.Experiment {
	w.t.Helper()
	ex := w.experiments[w.ro.Status.Canary.CurrentExperiment]
	if ex == nil {
		w.t.Fatalf("no current experiment (status names %q) among %d", w.ro.Status.Canary.CurrentExperiment, len(w.experiments))
	}
	ex.Status.Phase, ex.Status.Message = phase, message
	ex.Status.TemplateStatuses = nil
	for _, t := range ex.Spec.Templates {
		ex.Status.TemplateStatuses = append(ex.Status.TemplateStatuses, v1alpha1.TemplateStatus{
			Name: t.Name, ServiceName: ex.Name + "-" + t.Name, PodTemplateHash: "h-" + t.Name,
		})
	}
	return ex
}

func experimentStep(templates ...v1alpha1.RolloutExperimentTemplate) v1alpha1.CanaryStep {
	return v1alpha1.CanaryStep{Experiment: &v1alpha1.RolloutExperimentStep{
		Duration:  "30s",
		Templates: templates,
		Analyses: []v1alpha1.RolloutExperimentStepAnalysisTemplateRef{{
			Name: "compare", TemplateName: "compare",
			Args: []v1alpha1.AnalysisRunArgument{
				{Name: "baseline", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: ptr(v1alpha1.Stable)}},
				{Name: "canary", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: ptr(v1alpha1.Latest)}},
			},
			RequiredForCompletion: true,
		}},
	}}
}

func baselineAndCanary(weight *int32) []v1alpha1.RolloutExperimentTemplate {
	return []v1alpha1.RolloutExperimentTemplate{
		{Name: "baseline", SpecRef: v1alpha1.StableSpecRef, Weight: weight,
			Metadata: v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "baseline"}}},
		{Name: "canary", SpecRef: v1alpha1.CanarySpecRef, Weight: weight, Replicas: int32Ptr(2)},
	}
}

func TestExperimentStepRunsBaselineAndCanaryAndMovesOn(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), experimentStep(baselineAndCanary(nil)...), setWeight(60)))
	w.settle()
	if len(w.experiments) != 0 {
		t.Fatalf("the initial deploy must not experiment, got %d", len(w.experiments))
	}
	stableHash := w.hash()
	w.ro.Labels = map[string]string{"team": "shop"}
	w.setImage("demo:v2")
	w.settle()
	w.expectStep(1)
	name := "demo-" + w.hash() + "-2-1"
	ex := w.experiments[name]
	if ex == nil || w.ro.Status.Canary.CurrentExperiment != name {
		t.Fatalf("experiment %s not created and current (status %q, have %d)", name, w.ro.Status.Canary.CurrentExperiment, len(w.experiments))
	}
	if ex.Labels[v1alpha1.LabelPodTemplateHash] != w.hash() || ex.Labels["team"] != "shop" ||
		ex.Annotations[v1alpha1.AnnotationRevision] != "2" || ex.OwnerReferences[0].UID != "rollout-uid" {
		t.Fatalf("experiment metadata: %+v", ex.ObjectMeta)
	}
	base, canary := ex.Spec.Templates[0], ex.Spec.Templates[1]
	if base.Template.Labels[v1alpha1.LabelPodTemplateHash] != stableHash || base.Template.Labels["role"] != "baseline" ||
		base.Selector.MatchLabels["role"] != "baseline" || base.Service != nil {
		t.Fatalf("baseline template copies the stable revision plus its metadata: %+v", base)
	}
	if canary.Template.Spec.Containers[0].Image != "demo:v2" || *canary.Replicas != 2 {
		t.Fatalf("canary template: %+v", canary)
	}
	a := ex.Spec.Analyses[0]
	if *a.Args[0].Value != stableHash || *a.Args[1].Value != w.hash() || !a.RequiredForCompletion || ex.Spec.Duration != "30s" {
		t.Fatalf("experiment analyses/duration: %+v %s", a, ex.Spec.Duration)
	}
	w.expectEvent(v1alpha1.EventExperimentCreated)
	// The step waits while the experiment runs.
	w.setExperiment(v1alpha1.AnalysisPhaseRunning, "")
	w.settle()
	w.expectStep(1)
	w.setExperiment(v1alpha1.AnalysisPhaseSuccessful, "")
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if w.ro.Status.Canary.CurrentExperiment != "" || len(w.experiments) != 1 || w.experiments[name].Spec.Terminate {
		t.Fatalf("a successful experiment is kept, finished, and no longer current: status %q", w.ro.Status.Canary.CurrentExperiment)
	}
}

func TestFailedExperimentAbortsTheRollout(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), experimentStep(baselineAndCanary(nil)...), setWeight(60)))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.setExperiment(v1alpha1.AnalysisPhaseFailed, `Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)`)
	w.settle()
	want := `RolloutAborted: Rollout aborted update to revision 2: Experiment analysis phase is error/failed: Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)`
	w.expectPhase(v1alpha1.RolloutPhaseDegraded, want)
	w.expectReplicas(map[string]int32{"rev1": 5})
	if w.ro.Status.Canary.CurrentExperiment != "" {
		t.Fatalf("aborted: currentExperiment = %q, want none", w.ro.Status.Canary.CurrentExperiment)
	}
	// A retry runs the experiment again, under the next name.
	first := "demo-" + w.hash() + "-2-1"
	w.ro.Status.Abort = false
	w.settle()
	if w.ro.Status.Canary.CurrentExperiment != first+"-1" || len(w.experiments) != 2 {
		t.Fatalf("retry: current %q, %d experiments", w.ro.Status.Canary.CurrentExperiment, len(w.experiments))
	}
}

func TestAbortTerminatesTheRunningExperiment(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), experimentStep(baselineAndCanary(nil)...), setWeight(60)))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	ex := w.setExperiment(v1alpha1.AnalysisPhaseRunning, "")
	w.ro.Status.Abort = true
	w.settle()
	if !ex.Spec.Terminate {
		t.Fatal("abort must terminate the running experiment")
	}
	w.expectReplicas(map[string]int32{"rev1": 5})
}

func TestPromoteFullTerminatesTheRunningExperiment(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), experimentStep(baselineAndCanary(nil)...), setWeight(60)))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	ex := w.setExperiment(v1alpha1.AnalysisPhaseRunning, "")
	w.ro.Status.PromoteFull = true
	w.settle()
	if !ex.Spec.Terminate {
		t.Fatal("promote --full must terminate the running experiment")
	}
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
}

func TestInconclusiveExperimentPausesUntilResumed(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), experimentStep(baselineAndCanary(nil)...), setWeight(60)))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.setExperiment(v1alpha1.AnalysisPhaseInconclusive, "")
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonInconclusiveExperiment))
	if len(w.experiments) != 1 {
		t.Fatalf("no new experiment while paused, have %d", len(w.experiments))
	}
	// Resuming runs the experiment again.
	w.promote()
	w.settle()
	if len(w.experiments) != 2 || !strings.HasSuffix(w.ro.Status.Canary.CurrentExperiment, "-1") {
		t.Fatalf("resume: %d experiments, current %q", len(w.experiments), w.ro.Status.Canary.CurrentExperiment)
	}
}

func TestSkippingTheExperimentStepTerminatesItsExperiment(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), experimentStep(baselineAndCanary(nil)...), setWeight(60), pauseFor("")))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	ex := w.setExperiment(v1alpha1.AnalysisPhaseRunning, "")
	w.promote() // skips the step, as the plugin does on a running step
	w.settle()
	if !ex.Spec.Terminate || w.ro.Status.Canary.CurrentExperiment != "" {
		t.Fatalf("skipped: terminate=%v current=%q", ex.Spec.Terminate, w.ro.Status.Canary.CurrentExperiment)
	}
	w.expectStep(3)
}

func TestAStaleCacheTakesUpTheExperimentInsteadOfMakingASecond(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), experimentStep(baselineAndCanary(nil)...), setWeight(60)))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	// The status write naming the experiment was lost.
	w.ro.Status.Canary.CurrentExperiment = ""
	p := w.step()
	if p.CreateExperiment != nil || len(w.experiments) != 1 || w.ro.Status.Canary.CurrentExperiment == "" {
		t.Fatalf("a second experiment was planned: %v; current %q", p.CreateExperiment != nil, w.ro.Status.Canary.CurrentExperiment)
	}
}

func TestExperimentWeightsRouteToTheTemplateServicesBehindIstio(t *testing.T) {
	w := istioWorld(t, setWeight(20), experimentStep(baselineAndCanary(int32Ptr(10))...), setWeight(60))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.setExperiment(v1alpha1.AnalysisPhaseRunning, "")
	w.settle()
	wt := w.ro.Status.Canary.Weights
	if wt == nil || wt.Canary.Weight != 20 || wt.Stable.Weight != 60 || len(wt.Additional) != 2 || wt.Additional[0].Weight != 10 {
		t.Fatalf("weights during the experiment = %+v", wt)
	}
	vs := w.routerObjects[trafficrouting.Ref{Resource: vsResource, Namespace: "default", Name: "demo"}]
	hosts := map[string]int64{}
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	dests, _, _ := unstructured.NestedSlice(routes[0].(map[string]any), "route")
	for _, d := range dests {
		host, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host")
		weight, _, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
		hosts[host] = weight
	}
	ex := w.ro.Status.Canary.CurrentExperiment
	if hosts["demo-stable"] != 60 || hosts["demo-canary"] != 20 || hosts[ex+"-baseline"] != 10 || hosts[ex+"-canary"] != 10 {
		t.Fatalf("VirtualService destinations = %v", hosts)
	}
	// Once the experiment is done its destinations go.
	w.setExperiment(v1alpha1.AnalysisPhaseSuccessful, "")
	w.settle()
	w.expectStep(3)
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectWeights(100, 0)
	if len(w.ro.Status.Canary.Weights.Additional) != 0 {
		t.Fatalf("additional weights after the experiment: %+v", w.ro.Status.Canary.Weights.Additional)
	}
}

func TestExperimentStepBadInputIsInvalidSpec(t *testing.T) {
	for name, c := range map[string]struct {
		mutate func(*v1alpha1.RolloutExperimentStep)
		want   string
	}{
		"duplicate template": {func(e *v1alpha1.RolloutExperimentStep) { e.Templates[1].Name = "baseline" },
			`spec.strategy.canary.steps[1].experiment.templates[1].name: Duplicate value: "baseline"`},
		"bad specRef": {func(e *v1alpha1.RolloutExperimentStep) { e.Templates[0].SpecRef = "preview" },
			`spec.strategy.canary.steps[1].experiment.templates[0].specRef: Unsupported value: "preview"`},
		"weights above the total": {func(e *v1alpha1.RolloutExperimentStep) {
			e.Templates[0].Weight, e.Templates[1].Weight = int32Ptr(60), int32Ptr(50)
		},
			"spec.strategy.canary.steps[1].experiment.templates: Invalid value: 110: the templates' weights add up to 110"},
	} {
		t.Run(name, func(t *testing.T) {
			w := istioWorld(t, setWeight(20), experimentStep(baselineAndCanary(nil)...))
			c.mutate(w.ro.Spec.Strategy.Canary.Steps[1].Experiment)
			w.settle()
			cond := condition(w.ro.Status, v1alpha1.InvalidSpec)
			if cond == nil || !strings.Contains(cond.Message, c.want) {
				t.Fatalf("InvalidSpec condition = %+v, want it to contain %q", cond, c.want)
			}
			if len(w.rss) != 0 || len(w.experiments) != 0 {
				t.Fatalf("nothing may be created for an invalid spec: %d ReplicaSets, %d experiments", len(w.rss), len(w.experiments))
			}
		})
	}
}

func TestExperimentWeightNeedsARouterThatCarriesIt(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), experimentStep(baselineAndCanary(int32Ptr(10))...)))
	w.settle()
	cond := condition(w.ro.Status, v1alpha1.InvalidSpec)
	if cond == nil || !strings.Contains(cond.Message, msgExperimentWeightNoTR) {
		t.Fatalf("InvalidSpec condition = %+v", cond)
	}
}

func TestOldExperimentsBeyondTheHistoryLimitsAreDeleted(t *testing.T) {
	ro := canaryRollout(experimentStep(baselineAndCanary(nil)...))
	ro.Spec.Analysis = &v1alpha1.AnalysisRunStrategy{SuccessfulRunHistoryLimit: int32Ptr(1)}
	w := newWorld(t, ro)
	w.settle()
	for i, image := range []string{"demo:v2", "demo:v3", "demo:v4"} {
		w.setImage(image)
		w.settle()
		w.setExperiment(v1alpha1.AnalysisPhaseSuccessful, "")
		w.settle()
		w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
		if want := min(i+1, 2); len(w.experiments) > want {
			t.Fatalf("after release %d: %d experiments kept, want at most %d", i+2, len(w.experiments), want)
		}
	}
	if len(w.experiments) != 1 {
		t.Fatalf("successfulRunHistoryLimit 1 keeps one finished experiment, have %d", len(w.experiments))
	}
}

func TestTheNextExperimentStepStartsItsOwnExperiment(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), experimentStep(baselineAndCanary(nil)...), experimentStep(baselineAndCanary(nil)...)))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	first := w.setExperiment(v1alpha1.AnalysisPhaseRunning, "")
	w.promote() // skips to the second experiment step
	w.settle()
	second := "demo-" + w.hash() + "-2-2"
	if w.ro.Status.Canary.CurrentExperiment != second || w.experiments[second] == nil || !first.Spec.Terminate {
		t.Fatalf("after the skip: current %q (want %s), first terminated %v", w.ro.Status.Canary.CurrentExperiment, second, first.Spec.Terminate)
	}
}

func TestExperimentServicePortsPreferTheHTTPPort(t *testing.T) {
	p := &planner{st: State{Services: map[string]*corev1.Service{
		"exp-canary":   {Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "metrics", Port: 9090}, {Name: "http", Port: 8080}}}},
		"exp-baseline": {Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 7070}}}},
	}}}
	got := p.servicePorts([]v1alpha1.WeightDestination{{ServiceName: "exp-canary"}, {ServiceName: "exp-baseline"}, {ServiceName: "exp-missing"}})
	if len(got) != 2 || got["exp-canary"] != 8080 || got["exp-baseline"] != 7070 {
		t.Fatalf("ports = %v", got)
	}
}

func TestTrafficWeightEventsSayWhatChangedAsUpstream(t *testing.T) {
	w := istioWorld(t, setWeight(20), experimentStep(baselineAndCanary(int32Ptr(10))...), setWeight(60))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.setExperiment(v1alpha1.AnalysisPhaseRunning, "")
	w.settle()
	var got []string
	for _, e := range w.events {
		// A change of hash alone says nothing more, as upstream's message.
		if e.Reason == v1alpha1.EventTrafficWeightUpdated && e.Message != "Traffic weight updated " {
			got = append(got, e.Message)
		}
	}
	ex := w.ro.Status.Canary.CurrentExperiment
	want := []string{"Traffic weight updated to 0", "Traffic weight updated from 0 to 20",
		fmt.Sprintf("Traffic weight updated additional: [{%d %s-baseline h-baseline} {%d %s-canary h-canary}]", 10, ex, 10, ex)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("TrafficWeightUpdated messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

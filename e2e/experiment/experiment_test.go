package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/internal/testpaths"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// successRate measures the test's success_rate gauge; canary-hash receives
// the canary template's pod-template hash, which the test then checks.
func successRate(f *framework.T) string {
	return fmt.Sprintf(`
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
  - name: namespace
  - name: canary-hash
  metrics:
  - name: success-rate
    interval: 2s
    count: 3
    failureLimit: 0
    successCondition: result[0] >= 0.99
    provider:
      prometheus:
        address: %s
        query: success_rate{namespace="{{args.namespace}}"}
`, f.Env.Cluster.PrometheusURL())
}

// baselineVsCanary runs two templates side by side, with a Service each,
// and the success-rate analysis. extra is added to the spec.
func baselineVsCanary(f *framework.T, extra string) string {
	return fmt.Sprintf(`
apiVersion: argoproj.io/v1alpha1
kind: Experiment
metadata:
  name: compare
spec:
  scaleDownDelaySeconds: 2
%s
  templates:
  - name: baseline
    replicas: 2
    service: {}
    selector:
      matchLabels: {app: demo, variant: baseline}
    template:
      metadata:
        labels: {app: demo, variant: baseline}
      spec:
        containers:
        - name: app
          image: demo:v1
          ports:
          - {name: http, containerPort: 8080}
  - name: canary
    service: {name: compare-canary-preview}
    selector:
      matchLabels: {app: demo, variant: canary}
    template:
      metadata:
        labels: {app: demo, variant: canary}
      spec:
        containers:
        - name: app
          image: demo:v2
          ports:
          - {name: http, containerPort: 8080}
  analyses:
  - name: success
    templateName: success-rate
    args:
    - {name: namespace, value: %s}
    - {name: canary-hash, value: "{{templates.canary.podTemplateHash}}"}
`, extra, f.Namespace)
}

func setup(t *testing.T, rate float64, extra string) (*framework.T, *E) {
	f := framework.New(t)
	f.SetMetric("success_rate", rate)
	f.AnalysisTemplate(successRate(f))
	return f, create(f, baselineVsCanary(f, extra))
}

// Two templates run for the duration while the analysis passes; the
// experiment ends Successful, then scales down and removes its Services.
func TestTwoTemplatesAndAPassingAnalysis(t *testing.T) {
	t.Parallel()
	f, e := setup(t, 0.995, "  duration: 20s")
	e.WaitForReplicas(map[string]int32{"baseline": 2, "canary": 1})
	ex := e.WaitForPhase(v1alpha1.AnalysisPhaseRunning)
	if ex.Status.AvailableAt == nil {
		t.Fatal("Running without availableAt")
	}
	canaryHash := e.ReplicaSet("canary").Labels[v1alpha1.LabelPodTemplateHash]
	svc, err := f.Env.Kube.CoreV1().Services(f.Namespace).Get(context.Background(), "compare-canary-preview", metav1.GetOptions{})
	if err != nil || svc.Spec.Selector[v1alpha1.LabelPodTemplateHash] != canaryHash || svc.Spec.Ports[0].Port != 8080 {
		t.Fatalf("canary Service: %v %+v", err, svc)
	}
	e.WaitFor("a successful analysis", func(ex *v1alpha1.Experiment) bool {
		r := ex.Status.AnalysisRunStatusByName("success")
		return r != nil && r.Phase == v1alpha1.AnalysisPhaseSuccessful
	})
	run := f.AnalysisRuns()["compare-success"]
	if run == nil {
		t.Fatalf("no run compare-success among %v", f.AnalysisRuns())
	}
	for _, a := range run.Spec.Args {
		if a.Name == "canary-hash" && (a.Value == nil || *a.Value != canaryHash) {
			t.Errorf("canary-hash = %v, want %s", a.Value, canaryHash)
		}
	}
	if ref := metav1.GetControllerOf(run); ref == nil || ref.Kind != "Experiment" || ref.Name != "compare" {
		t.Errorf("run owner %+v", ref)
	}
	ex = e.WaitForPhase(v1alpha1.AnalysisPhaseSuccessful)
	for _, ts := range ex.Status.TemplateStatuses {
		if ts.Status != v1alpha1.TemplateStatusSuccessful {
			t.Errorf("template %s is %s", ts.Name, ts.Status)
		}
	}
	e.WaitForReplicas(map[string]int32{"baseline": 0, "canary": 0})
	e.WaitForNoService("compare-baseline")
	e.WaitForNoService("compare-canary-preview")
	if e.Events("ExperimentSuccessful") != 1 || e.Events("TemplateRunning") != 2 {
		t.Errorf("events: ExperimentSuccessful %d, TemplateRunning %d", e.Events("ExperimentSuccessful"), e.Events("TemplateRunning"))
	}
}

// An analysis that fails fails the experiment, which scales down at once.
func TestFailingAnalysisFailsTheExperiment(t *testing.T) {
	t.Parallel()
	_, e := setup(t, 0.5, "")
	ex := e.WaitForPhase(v1alpha1.AnalysisPhaseFailed)
	if r := ex.Status.AnalysisRunStatusByName("success"); r == nil || r.Phase != v1alpha1.AnalysisPhaseFailed {
		t.Fatalf("analysis status %+v", r)
	}
	if ex.Status.Message == "" {
		t.Error("a failed experiment should say why")
	}
	e.WaitForReplicas(map[string]int32{"baseline": 0, "canary": 0})
}

// terminate experiment ends a running experiment Successful and scales it
// down; retry experiment (status: null) runs it again on the same
// ReplicaSets, with a new AnalysisRun.
func TestTerminateThenRetry(t *testing.T) {
	t.Parallel()
	f, e := setup(t, 0.995, "")
	e.WaitForReplicas(map[string]int32{"baseline": 2, "canary": 1})
	// Terminate once the run exists: an experiment terminated before its
	// run starts never starts it, as upstream's.
	e.WaitFor("the analysis run started", func(ex *v1alpha1.Experiment) bool {
		r := ex.Status.AnalysisRunStatusByName("success")
		return ex.Status.Phase == v1alpha1.AnalysisPhaseRunning && r != nil && r.AnalysisRun != ""
	})
	e.Terminate()
	ex := e.WaitForPhase(v1alpha1.AnalysisPhaseSuccessful)
	if r := ex.Status.AnalysisRunStatusByName("success"); r == nil || r.AnalysisRun == "" {
		t.Fatalf("analysis status %+v", r)
	}
	e.WaitForReplicas(map[string]int32{"baseline": 0, "canary": 0})

	e.Patch(`{"spec":{"terminate":false}}`)
	e.Retry()
	e.WaitForReplicas(map[string]int32{"baseline": 2, "canary": 1})
	e.WaitFor("a second run", func(ex *v1alpha1.Experiment) bool {
		r := ex.Status.AnalysisRunStatusByName("success")
		return ex.Status.Phase == v1alpha1.AnalysisPhaseRunning && r != nil && r.AnalysisRun == "compare-success.1"
	})
	if n := len(f.AnalysisRuns()); n != 2 {
		t.Errorf("%d AnalysisRuns, want 2", n)
	}
	e.Terminate()
	e.WaitForPhase(v1alpha1.AnalysisPhaseSuccessful)
	e.WaitForReplicas(map[string]int32{"baseline": 0, "canary": 0})
}

// Bad input: two templates of the same name error the experiment, naming
// the template, and nothing is created.
func TestRepeatedTemplateNameIsAnError(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	e := create(f, `
apiVersion: argoproj.io/v1alpha1
kind: Experiment
metadata:
  name: twice
spec:
  templates:
  - name: a
    selector: {matchLabels: {app: a}}
    template: {metadata: {labels: {app: a}}, spec: {containers: [{name: app, image: demo:v1}]}}
  - name: a
    selector: {matchLabels: {app: a}}
    template: {metadata: {labels: {app: a}}, spec: {containers: [{name: app, image: demo:v1}]}}
`)
	ex := e.WaitForPhase(v1alpha1.AnalysisPhaseError)
	if want := "Experiment twice has repeated template name 'a' in templates"; ex.Status.Message != want {
		t.Errorf("message %q, want %q", ex.Status.Message, want)
	}
	sets, err := f.Env.Kube.AppsV1().ReplicaSets(f.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(sets.Items) != 0 {
		t.Errorf("ReplicaSets created: %v %d", err, len(sets.Items))
	}
}

// Argo Rollouts' example experiment, with its job analyses, runs both
// templates and both analyses to success; without a duration it then keeps
// Running, as upstream's does, until terminated.
func TestUpstreamExperimentWithAnalysis(t *testing.T) {
	t.Parallel()
	dir := testpaths.Shared(t, "conformance", "upstream-examples")
	f := framework.New(t)
	for _, file := range []string{"analysis-templates.yaml", "experiment-with-analysis.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
			t.Skipf("skipping: %v", err)
		}
		if out, err := f.Env.Cluster.Kubectl(context.Background(), "apply", "-n", f.Namespace, "-f", filepath.Join(dir, file)); err != nil {
			t.Fatalf("kubectl apply %s: %v\n%s", file, err, out)
		}
	}
	e := &E{f: f, Name: "experiment-with-analysis"}
	e.WaitForReplicas(map[string]int32{"purple": 1, "orange": 1})
	e.WaitFor("both analyses successful while Running", func(ex *v1alpha1.Experiment) bool {
		for _, name := range []string{"random-fail", "pass"} {
			r := ex.Status.AnalysisRunStatusByName(name)
			if r == nil || r.Phase != v1alpha1.AnalysisPhaseSuccessful {
				return false
			}
		}
		return ex.Status.Phase == v1alpha1.AnalysisPhaseRunning
	})
	e.Terminate()
	e.WaitForPhase(v1alpha1.AnalysisPhaseSuccessful)
	e.WaitForReplicas(map[string]int32{"purple": 0, "orange": 0})
}

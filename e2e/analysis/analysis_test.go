package analysis

import (
	"fmt"
	"strings"
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// seedCanary is the seed scenario: 10% -> pause -> analysis -> 50% -> 100%,
// with the analysis shortened (interval 2s instead of 30s).
const seedCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 10
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      stableService: demo-stable
      canaryService: demo-canary
      steps:
      - setWeight: 10
      - pause: {duration: 1s}
      - analysis:
          templates:
          - templateName: success-rate
          args:
          - name: namespace
            valueFrom:
              fieldRef: {fieldPath: metadata.namespace}
      - setWeight: 50
      - pause: {duration: 1s}
`

func successRateTemplate(f *framework.T, extra string) string {
	return fmt.Sprintf(`
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
  - name: namespace
  metrics:
  - name: success-rate
    interval: 2s
    count: 3
    failureLimit: 1
    successCondition: result[0] >= 0.99
%s    provider:
      prometheus:
        address: %s
        query: success_rate{namespace="{{args.namespace}}"}
`, extra, f.Env.Cluster.PrometheusURL())
}

func setup(t *testing.T, extra string) (*framework.T, *framework.R) {
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.AnalysisTemplate(successRateTemplate(f, extra))
	r := f.Rollout(seedCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 10})
	return f, r
}

func TestHealthyCanaryPassesTheAnalysis(t *testing.T) {
	t.Parallel()
	f, r := setup(t, "")
	f.SetMetric("success_rate", 0.995)
	r.SetImage("demo:v2")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 10})
	runs := f.AnalysisRuns()
	if len(runs) != 1 {
		t.Fatalf("want one AnalysisRun, have %d", len(runs))
	}
	for name, run := range runs {
		if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || run.Status.MetricResults[0].Count != 3 {
			t.Fatalf("run %s: phase %s, results %+v", name, run.Status.Phase, run.Status.MetricResults)
		}
		if !strings.HasSuffix(name, "-2-2") || run.Labels["rollout-type"] != "Step" || run.Labels["step-index"] != "2" {
			t.Fatalf("run %s labels %v", name, run.Labels)
		}
	}
}

func TestCanaryWhoseErrorRateRisesIsAborted(t *testing.T) {
	t.Parallel()
	f, r := setup(t, "")
	f.SetMetric("success_rate", 0.80)
	r.SetImage("demo:v2")
	r.WaitFor("an abort by the analysis", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	ro := r.Get()
	if !strings.Contains(ro.Status.Message, "Step-based analysis phase error/failed") || !strings.Contains(ro.Status.Message, `Metric "success-rate" assessed Failed`) {
		t.Fatalf("message = %q", ro.Status.Message)
	}
	// Stable keeps all traffic: every pod is stable and both Services select it.
	r.WaitForReplicas(map[string]int32{"rev1": 10})
	r.WaitForServiceHash("demo-canary", ro.Status.StableRS)
}

func TestPrometheusUnreachableIsAnErrorThatAborts(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.AnalysisTemplate(strings.Replace(successRateTemplate(f, "    consecutiveErrorLimit: 0\n"), f.Env.Cluster.PrometheusURL(), "http://127.0.0.1:9", 1))
	r := f.Rollout(seedCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitFor("an abort by the analysis error", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	for _, run := range f.AnalysisRuns() {
		if run.Status.Phase != v1alpha1.AnalysisPhaseError {
			t.Fatalf("an unreachable Prometheus must be Error, got %s: %s", run.Status.Phase, run.Status.Message)
		}
	}
	r.WaitForReplicas(map[string]int32{"rev1": 10})
}

func TestInconclusiveResultPausesAndPromoteResumes(t *testing.T) {
	t.Parallel()
	f, r := setup(t, "    failureCondition: result[0] < 0.5\n")
	f.SetMetric("success_rate", 0.8) // neither success nor failure
	r.SetImage("demo:v2")
	r.WaitForPhaseMessage(v1alpha1.RolloutPhasePaused, "InconclusiveAnalysisRun")
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 10})
}

const jobTemplate = `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: smoke
spec:
  metrics:
  - name: smoke
    provider:
      job:
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: smoke
                image: busybox
                command: [sh, -c, "sleep 1 && exit %d"]
`

const jobCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 2
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      steps:
      - setWeight: 50
      - analysis:
          templates:
          - templateName: smoke
`

func TestJobMetricThatSucceeds(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	f.AnalysisTemplate(fmt.Sprintf(jobTemplate, 0))
	r := f.Rollout(jobCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 2})
}

func TestJobMetricThatFails(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	f.AnalysisTemplate(fmt.Sprintf(jobTemplate, 1))
	r := f.Rollout(jobCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitFor("an abort by the failed Job", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	r.WaitForReplicas(map[string]int32{"rev1": 2})
}

package plugins

import (
	"fmt"
	"strings"
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// canary is 10% -> analysis -> 50% -> 100%, analysed by the template
// named "gate".
const canary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: %s
spec:
  replicas: 4
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      steps:
      - setWeight: 25
      - analysis:
          templates:
          - templateName: %[2]s
      - setWeight: 50
      - pause: {duration: 1s}
`

// template measures success_rate through plugin, three times, two
// seconds apart; an Error ends the run at once.
func template(name, plugin string) string {
	return fmt.Sprintf(`
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: %s
spec:
  metrics:
  - name: success-rate
    interval: 2s
    count: 3
    failureLimit: 0
    consecutiveErrorLimit: 0
    provider:
      plugin:
        %s: {metric: success_rate, min: 0.99}
`, name, plugin)
}

// start creates a template on plugin and a healthy Rollout it gates, and
// starts an update.
func start(f *framework.T, name, plugin string) *framework.R {
	f.Helper()
	f.AnalysisTemplate(template(name+"-gate", plugin))
	r := f.Rollout(fmt.Sprintf(canary, name, name+"-gate"))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 4})
	r.SetImage("demo:v2")
	return r
}

// aborted waits for the analysis to abort the update, stable keeping
// every pod, and returns the AnalysisRun.
func aborted(f *framework.T, r *framework.R, phase v1alpha1.AnalysisPhase) *v1alpha1.AnalysisRun {
	f.Helper()
	r.WaitFor("an abort by the analysis", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	r.WaitForReplicas(map[string]int32{"rev1": 4})
	runs := f.AnalysisRuns()
	if len(runs) != 1 {
		f.Fatalf("want one AnalysisRun, have %d", len(runs))
	}
	for _, run := range runs {
		if run.Status.Phase != phase {
			f.Fatalf("run %s: phase %s, want %s; results %+v", run.Name, run.Status.Phase, phase, run.Status.MetricResults)
		}
		return run
	}
	return nil
}

// lastMessage is the message of the run's last measurement.
func lastMessage(run *v1alpha1.AnalysisRun) string {
	ms := run.Status.MetricResults[0].Measurements
	return ms[len(ms)-1].Message
}

func TestAPluginMetricThatPassesPromotesTheCanary(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	f.SetMetric("success_rate", 0.995)
	r := start(f, "file", filePlugin)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	for name, run := range f.AnalysisRuns() {
		res := run.Status.MetricResults[0]
		if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || res.Count != 3 || res.Measurements[0].Value != "0.995" {
			t.Fatalf("run %s: phase %s, result %+v", name, run.Status.Phase, res)
		}
		// GetMetadata fills the result's metadata, the measurement carries
		// the plugin's own.
		if res.Metadata["gauge"] != "success_rate" || res.Measurements[0].Metadata["plugin-pid"] == "" {
			t.Fatalf("metadata %v, measurement metadata %v", res.Metadata, res.Measurements[0].Metadata)
		}
	}
}

func TestADownloadedPluginMetricThatFailsAbortsTheRollout(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	f.SetMetric("success_rate", 0.5)
	r := start(f, "http", httpPlugin)
	aborted(f, r, v1alpha1.AnalysisPhaseFailed)
	if msg := r.Get().Status.Message; !strings.Contains(msg, `Metric "success-rate" assessed Failed`) {
		t.Fatalf("message %q", msg)
	}
}

func TestAPluginWithAWrongSha256IsAnErrorAndTheRolloutIsNotPromoted(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	f.SetMetric("success_rate", 0.995)
	r := start(f, "wrongsum", wrongSumPlugin)
	run := aborted(f, r, v1alpha1.AnalysisPhaseError)
	if msg := lastMessage(run); !strings.Contains(msg, wrongSumPlugin) || !strings.Contains(msg, "sha256") {
		t.Fatalf("measurement message %q, want the plugin and its sha256 named", msg)
	}
}

// A plugin that never answers costs its measurements the deadline: the
// run ends in Error and is aborted, while a Rollout measured by another
// plugin, in the same controller, is promoted meanwhile.
func TestAHangingPluginErrsAtTheDeadlineAndOthersKeepProgressing(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	f.SetMetric("success_rate", 0.995)
	hung := start(f, "hung", hangingPlugin)
	other := start(f, "other", filePlugin)
	other.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	hung.WaitFor("an abort by the analysis", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	for _, run := range f.AnalysisRuns() {
		if !strings.HasPrefix(run.Name, "hung-") {
			continue
		}
		if run.Status.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(lastMessage(run), "no answer in time") || !strings.Contains(lastMessage(run), hangingPlugin) {
			t.Fatalf("run %s: phase %s, message %q", run.Name, run.Status.Phase, lastMessage(run))
		}
	}
}

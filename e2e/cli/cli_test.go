package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/e2e/cluster"
	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// canary is the demo's story in short: 20% -> pause -> analysis -> 50%.
const canary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: guestbook
spec:
  replicas: 5
  selector:
    matchLabels: {app: guestbook}
  template:
    metadata:
      labels: {app: guestbook}
    spec:
      containers:
      - name: guestbook
        image: guestbook:v1
  strategy:
    canary:
      stableService: guestbook-stable
      canaryService: guestbook-canary
      steps:
      - setWeight: 20
      - pause: {}
      - analysis:
          templates:
          - templateName: success-rate
          args:
          - name: namespace
            valueFrom:
              fieldRef: {fieldPath: metadata.namespace}
      - setWeight: 50
`

// successRate measures the namespace's success rate three times, a second
// apart; one value below 0.99 fails it.
func successRate(f *framework.T) string {
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
    interval: 1s
    count: 3
    successCondition: result[0] >= 0.99
    provider:
      prometheus:
        address: %s
        query: success_rate{namespace="{{args.namespace}}"}
`, f.Env.Cluster.PrometheusURL())
}

// serin runs bin/kubectl-serin against the test's namespace and returns
// its exit code and output.
func serin(f *framework.T, ctx context.Context, args ...string) (int, string) {
	f.Helper()
	root, err := cluster.FindRepoRoot()
	if err != nil {
		f.Fatal(err)
	}
	bin := filepath.Join(root, "bin", "kubectl-serin")
	if _, err := os.Stat(bin); err != nil {
		f.Fatalf("%s is missing: run make build", bin)
	}
	args = append(args, "--kubeconfig", f.Env.Cluster.Kubeconfig(), "-n", f.Namespace)
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	f.Fatalf("kubectl-serin %v: %v\n%s", args, err, out)
	return 0, ""
}

func setup(t *testing.T) (*framework.T, *framework.R) {
	f := framework.New(t).Service("guestbook-stable", "guestbook").Service("guestbook-canary", "guestbook")
	f.AnalysisTemplate(successRate(f))
	r := f.Rollout(canary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	return f, r
}

// explain on a release the analysis aborted names the run, the metric and
// the measured value that decided it, in text and in JSON; status exits 3
// (aborted), and status --watch started while the canary progressed ends
// with the same code once the abort happens.
func TestExplainAndStatusOnAnAbortedRelease(t *testing.T) {
	t.Parallel()
	f, r := setup(t)
	ctx := context.Background()
	if code, out := serin(f, ctx, "status", "guestbook"); code != 0 {
		f.Fatalf("status of a Healthy Rollout: exit %d\n%s", code, out)
	}
	f.SetMetric("success_rate", 0.80)
	r.SetImage("guestbook:v2").WaitForPausedAtStep(1)
	if code, out := serin(f, ctx, "status", "guestbook", "--watch", "--timeout", "2s"); code != 6 {
		f.Fatalf("status --watch on a Rollout waiting for promote: exit %d, want 6 (timeout)\n%s", code, out)
	}
	watched := make(chan int, 1)
	go func() {
		code, _ := serin(f, ctx, "status", "guestbook", "--watch", "--timeout", "60s")
		watched <- code
	}()
	r.Promote()
	r.WaitFor("an abort by the analysis", func(ro *v1alpha1.Rollout) bool { return ro.Status.Abort })
	if code := <-watched; code != 3 {
		f.Fatalf("status --watch ended with %d, want 3 (aborted)", code)
	}
	code, out := serin(f, ctx, "explain", "rollout", "guestbook")
	if code != 0 || !strings.Contains(out, "Why it stopped (abort)") || !strings.Contains(out, "deciding measurement: value [0.8], verdict Failed") {
		f.Fatalf("explain: exit %d\n%s", code, out)
	}
	_, out = serin(f, ctx, "explain", "rollout", "guestbook", "-o", "json")
	var report struct {
		Decision struct {
			Metric      string
			Measurement struct{ Value, Verdict string }
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil || report.Decision.Metric != "success-rate" || report.Decision.Measurement.Value != "[0.8]" {
		f.Fatalf("explain -o json: %v\n%s", err, out)
	}
}

// plan on the live Rollout with a new image shows the steps from its live
// status: the canary at 20%, then 50%, and a pause waiting for promote.
func TestPlanOnALiveRollout(t *testing.T) {
	t.Parallel()
	f, _ := setup(t)
	code, out := serin(f, context.Background(), "plan", "guestbook", "--image", "guestbook:v2")
	if code != 0 || !strings.Contains(out, "waiting for promote") || !strings.Contains(out, "4/4 setWeight 50") ||
		!strings.Contains(out, "fully promoted") {
		f.Fatalf("plan: exit %d\n%s", code, out)
	}
}

// backtest replays the template over Prometheus's live-scraped history of
// this test: some seconds of a good success rate, then some of a bad one.
// Runs that start in the good stretch pass, runs that start in the bad one
// fail on the bad value, and the summary counts both.
func TestBacktestOverARecordedGoodAndBadStretch(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	template := filepath.Join(f.TempDir(), "template.yaml")
	if err := os.WriteFile(template, []byte(successRate(f)), 0o644); err != nil {
		f.Fatal(err)
	}
	f.SetMetric("success_rate", 0.995)
	good := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	time.Sleep(8 * time.Second)
	f.SetMetric("success_rate", 0.80)
	bad := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	time.Sleep(8 * time.Second)
	code, out := serin(f, context.Background(), "backtest", "-f", template, "--arg", "namespace="+f.Namespace,
		"--from", good.Format(time.RFC3339), "--to", bad.Add(4*time.Second).Format(time.RFC3339), "--step", "2s", "-o", "json")
	var report struct {
		Starts  []struct{ Phase string }
		Summary struct{ Successful, Failed int }
	}
	if err := json.Unmarshal([]byte(out), &report); code != 0 || err != nil || len(report.Starts) == 0 {
		f.Fatalf("backtest: exit %d, %v\n%s", code, err, out)
	}
	first, last := report.Starts[0].Phase, report.Starts[len(report.Starts)-1].Phase
	if first != "Successful" || last != "Failed" || report.Summary.Successful == 0 || report.Summary.Failed == 0 {
		f.Fatalf("backtest: first %s, last %s, summary %+v\n%s", first, last, report.Summary, out)
	}
}

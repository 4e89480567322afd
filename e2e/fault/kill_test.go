package fault

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// maxKills bounds the kills of one scenario; each costs a process start,
// a cache sync and a reconcile. The scenarios below need fewer writes than
// this, so every one of their writes is followed by a kill.
const maxKills = 40

const istioCanary = `
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
      stableService: demo-stable
      canaryService: demo-canary
      scaleDownDelaySeconds: 2
      trafficRouting:
        istio:
          virtualService: {name: demo, routes: [primary]}
      steps:
      - setWeight: 25
      - pause: {duration: 1s}
      - setWeight: 75
      - pause: {duration: 1s}
`

const istioVirtualService = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: demo
spec:
  hosts: [demo]
  http:
  - name: primary
    route:
    - destination: {host: demo-stable}
      weight: 100
    - destination: {host: demo-canary}
      weight: 0
`

const successRate = `
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
    count: 2
    successCondition: result[0] >= 0.9
    provider:
      prometheus:
        address: %s
        query: success_rate{namespace="{{args.namespace}}"}
`

const blueGreen = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: bg
spec:
  replicas: 2
  selector:
    matchLabels: {app: bg}
  template:
    metadata:
      labels: {app: bg}
    spec:
      containers:
      - name: app
        image: bg:v1
  strategy:
    blueGreen:
      activeService: bg-active
      previewService: bg-preview
      scaleDownDelaySeconds: 2
      prePromotionAnalysis:
        templates: [{templateName: success-rate}]
        args: [{name: namespace, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}]
`

const analysisCanary = `
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
          templates: [{templateName: success-rate}]
          args: [{name: namespace, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}]
`

// upgradeKilledAfterEveryWrite brings a Rollout to Healthy on revision 1
// under the package's controller, then changes its image and drives
// revision 2 to the end with a kill after every controller write.
func upgradeKilledAfterEveryWrite(f *framework.T, r *framework.R, image string, before func()) {
	f.Helper()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 2})
	withoutPackageController(f)
	if before != nil {
		before()
	}
	r.SetImage(image)
	kills := killAfterEveryWrite(f, func() bool { return settled(r, 2) }, maxKills)
	f.Logf("%d controllers killed, each right after:\n  %s", len(kills), strings.Join(kills, "\n  "))
	if len(kills) == maxKills {
		f.Errorf("the rollout took more than %d writes; raise maxKills so that every write is followed by a kill", maxKills)
	}
	if got := r.Replicas(); !maps.Equal(got, map[string]int32{"rev1": 0, "rev2": 2}) {
		f.Errorf("ReplicaSets %v, want exactly rev1 scaled to 0 and rev2 at 2", got)
	}
}

// expectRuns checks the namespace holds exactly the named AnalysisRuns,
// each Successful with exactly count measurements.
func expectRuns(f *framework.T, count int32, names ...string) {
	f.Helper()
	runs := f.AnalysisRuns()
	if got := slices.Sorted(maps.Keys(runs)); !slices.Equal(got, names) {
		f.Fatalf("AnalysisRuns %v, want exactly %v", got, names)
	}
	for name, run := range runs {
		res := run.Status.MetricResults
		if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || len(res) != 1 || res[0].Count != count || len(res[0].Measurements) != int(count) {
			f.Errorf("run %s: phase %s, results %+v; want Successful with %d measurements", name, run.Status.Phase, res, count)
		}
	}
}

// TestIstioCanaryKilledAfterEveryWrite: killed after each write, the
// controllers still move the traffic through exactly the steps' weights,
// once each, and end on revision 2 with two ReplicaSets.
func TestIstioCanaryKilledAfterEveryWrite(t *testing.T) {
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(virtualServices, istioVirtualService)
	r := f.Rollout(istioCanary)
	var trail *weightTrail
	upgradeKilledAfterEveryWrite(f, r, "demo:v2", func() { trail = watchWeights(f, "demo") })
	want := []string{"100/0", "75/25", "25/75", "0/100", "100/0"}
	if got := trail.Pairs(); !slices.Equal(got, want) {
		t.Errorf("VirtualService weights went %v, want exactly %v", got, want)
	}
	if runs := f.AnalysisRuns(); len(runs) != 0 {
		t.Errorf("AnalysisRuns %v, want none", slices.Collect(maps.Keys(runs)))
	}
}

// TestBlueGreenWithPrePromotionAnalysisKilledAfterEveryWrite: killed after
// each write, the controllers create one pre-promotion run, measure it
// exactly count times, and promote revision 2.
func TestBlueGreenWithPrePromotionAnalysisKilledAfterEveryWrite(t *testing.T) {
	f := framework.New(t).Service("bg-active", "bg").Service("bg-preview", "bg")
	f.AnalysisTemplate(fmt.Sprintf(successRate, f.Env.Cluster.PrometheusURL()))
	f.SetMetric("success_rate", 0.99)
	r := f.Rollout(blueGreen)
	upgradeKilledAfterEveryWrite(f, r, "bg:v2", nil)
	green := r.Get().Status.StableRS
	r.WaitForServiceHash("bg-active", green)
	expectRuns(f, 2, "bg-"+green+"-2-pre")
}

// TestAnalysisCanaryKilledAfterEveryWrite: killed after each write, the
// controllers create one step run, measure it exactly count times, and
// finish the canary.
func TestAnalysisCanaryKilledAfterEveryWrite(t *testing.T) {
	f := framework.New(t)
	f.AnalysisTemplate(fmt.Sprintf(successRate, f.Env.Cluster.PrometheusURL()))
	f.SetMetric("success_rate", 0.99)
	r := f.Rollout(analysisCanary)
	upgradeKilledAfterEveryWrite(f, r, "demo:v2", nil)
	expectRuns(f, 2, "demo-"+r.Get().Status.StableRS+"-2-1")
}

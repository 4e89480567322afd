package experiment

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var virtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "virtualservices"}

// stepCanary is a canary behind an Istio host split whose second step runs
// a baseline (the stable spec) and a canary side by side, each with 10% of
// the traffic, compared by an analysis the experiment needs to finish.
const stepCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 4
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: demo:v1
        ports:
        - {name: http, containerPort: 8080}
  strategy:
    canary:
      stableService: demo-stable
      canaryService: demo-canary
      abortScaleDownDelaySeconds: 2
      scaleDownDelaySeconds: 2
      trafficRouting:
        istio:
          virtualService: {name: demo, routes: [primary]}
      steps:
      - setWeight: 20
      - experiment:
          templates:
          - {name: baseline, specRef: stable, weight: 10}
          - {name: canary, specRef: canary, weight: 10}
          analyses:
          - name: compare
            templateName: error-rate
            requiredForCompletion: true
            args:
            - {name: namespace, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
      - setWeight: 60
`

const stepVirtualService = `
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

func errorRateTemplate(f *framework.T) string {
	return fmt.Sprintf(`
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: error-rate
spec:
  args:
  - name: namespace
  metrics:
  - name: error-rate
    interval: 2s
    count: 4
    successCondition: result[0] <= 0.01
    provider:
      prometheus:
        address: %s
        query: error_rate{namespace="{{args.namespace}}"}
`, f.Env.Cluster.PrometheusURL())
}

// hostWeights reads the weight of each destination host of the primary route.
func hostWeights(u *unstructured.Unstructured) map[string]int64 {
	out := map[string]int64{}
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	for _, r := range routes {
		dests, _, _ := unstructured.NestedSlice(r.(map[string]any), "route")
		for _, d := range dests {
			host, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host")
			w, _, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
			out[host] = w
		}
	}
	return out
}

func experimentsOf(f *framework.T) []v1alpha1.Experiment {
	f.Helper()
	list, err := f.Env.Rollouts.ArgoprojV1alpha1().Experiments(f.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		f.Fatal(err)
	}
	return list.Items
}

func stepSetup(t *testing.T, errorRate float64) (*framework.T, *framework.R) {
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(virtualServices, stepVirtualService)
	f.AnalysisTemplate(errorRateTemplate(f))
	f.SetMetric("error_rate", errorRate)
	r := f.Rollout(stepCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 4})
	r.SetImage("demo:v2")
	return f, r
}

func TestAnExperimentStepBehindIstioThatPassesMovesOn(t *testing.T) {
	t.Parallel()
	f, r := stepSetup(t, 0.001)
	// While the experiment runs, each template's Service takes 10%.
	f.WaitForObject(virtualServices, "demo", "experiment destinations", func(u *unstructured.Unstructured) bool {
		w := hostWeights(u)
		var experiment int64
		for host, weight := range w {
			if host != "demo-canary" && (strings.HasSuffix(host, "-baseline") || strings.HasSuffix(host, "-canary")) {
				experiment += weight
			}
		}
		return w["demo-canary"] == 20 && w["demo-stable"] == 60 && experiment == 20
	})
	if ex := r.Get().Status.Canary.CurrentExperiment; ex == "" {
		t.Fatal("status.canary.currentExperiment is empty while the experiment runs")
	}
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	f.WaitForObject(virtualServices, "demo", "all traffic on the new stable", func(u *unstructured.Unstructured) bool {
		w := hostWeights(u)
		return len(w) == 2 && w["demo-stable"] == 100 && w["demo-canary"] == 0
	})
	exs := experimentsOf(f)
	if len(exs) != 1 || exs[0].Status.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("want one Successful experiment, have %+v", exs)
	}
	if got := r.Get().Status.Canary.CurrentExperiment; got != "" {
		t.Fatalf("status.canary.currentExperiment = %q after the step", got)
	}
}

func TestAnExperimentStepWhoseAnalysisFailsAbortsTheRollout(t *testing.T) {
	t.Parallel()
	f, r := stepSetup(t, 0.20)
	r.WaitFor("an abort by the experiment", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	ro := r.Get()
	if !strings.Contains(ro.Status.Message, "Experiment analysis phase is error/failed") {
		t.Fatalf("message = %q", ro.Status.Message)
	}
	f.WaitForObject(virtualServices, "demo", "all traffic back on stable", func(u *unstructured.Unstructured) bool {
		w := hostWeights(u)
		return len(w) == 2 && w["demo-stable"] == 100 && w["demo-canary"] == 0
	})
	r.WaitForReplicas(map[string]int32{"rev1": 4})
	exs := experimentsOf(f)
	if len(exs) != 1 || exs[0].Status.Phase != v1alpha1.AnalysisPhaseFailed {
		t.Fatalf("want one Failed experiment, have %+v", exs)
	}
}

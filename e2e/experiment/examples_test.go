package experiment

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/internal/testpaths"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Argo Rollouts' own example Rollouts with experiment steps, applied as
// written from ../shared/conformance (never copied into this repository).

func applyExample(f *framework.T, file string) {
	f.Helper()
	dir := testpaths.Shared(f.T, "conformance", "upstream-examples")
	for _, name := range []string{"analysis-templates.yaml", file} {
		out, err := f.Env.Cluster.Kubectl(context.Background(), "apply", "-n", f.Namespace, "-f", filepath.Join(dir, name))
		if err != nil {
			f.Fatalf("kubectl apply %s: %v\n%s", name, err, out)
		}
	}
}

// waitForExperiment polls the namespace's Experiments until one satisfies cond.
func waitForExperiment(f *framework.T, what string, cond func(*v1alpha1.Experiment) bool) *v1alpha1.Experiment {
	f.Helper()
	var found *v1alpha1.Experiment
	var last []v1alpha1.Experiment
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, framework.DefaultTimeout, true, func(context.Context) (bool, error) {
		last = experimentsOf(f)
		for i := range last {
			if cond(&last[i]) {
				found = &last[i]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		f.Fatalf("waiting for %s: experiments %+v", what, last)
	}
	return found
}

func running(ex *v1alpha1.Experiment) bool { return ex.Status.Phase == v1alpha1.AnalysisPhaseRunning }

func TestUpstreamExampleRolloutExperimentStep(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	applyExample(f, "rollout-experiment-step.yaml")
	r := f.RolloutNamed("rollout-experiment-step")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 4})
	r.SetImage("argoproj/rollouts-demo:yellow")
	// random-fail's Job flips a coin upstream; on the local cluster its
	// script exits 0, one of the outcomes upstream reaches. The run is not
	// required for completion and the experiment has no duration, so, as
	// upstream's, it keeps running and the rollout waits at its step.
	ex := waitForExperiment(f, "the experiment's analysis to succeed", func(ex *v1alpha1.Experiment) bool {
		return running(ex) && len(ex.Status.AnalysisRuns) == 1 && ex.Status.AnalysisRuns[0].Phase == v1alpha1.AnalysisPhaseSuccessful
	})
	if ro := r.Get(); ro.Status.CurrentStepIndex == nil || *ro.Status.CurrentStepIndex != 1 || ro.Status.Canary.CurrentExperiment != ex.Name {
		t.Fatalf("the rollout must wait at the experiment step: step %v, currentExperiment %q", ro.Status.CurrentStepIndex, ro.Status.Canary.CurrentExperiment)
	}
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	waitForExperiment(f, "the experiment terminated", func(e *v1alpha1.Experiment) bool {
		return e.Name == ex.Name && e.Spec.Terminate && e.Status.Phase.Completed()
	})
}

func TestUpstreamExampleBaselineVersusCanaryRunsUntilPromoted(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	applyExample(f, "rollout-baseline-vs-canary.yaml")
	r := f.RolloutNamed("rollout-baseline-vs-canary")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("argoproj/rollouts-demo:yellow")
	// No duration and no analysis: upstream's experiment runs until the
	// step is promoted past.
	ex := waitForExperiment(f, "the experiment running", func(ex *v1alpha1.Experiment) bool {
		return running(ex) && len(ex.Status.TemplateStatuses) == 2
	})
	time.Sleep(3 * time.Second)
	if ro := r.Get(); ro.Status.CurrentStepIndex == nil || *ro.Status.CurrentStepIndex != 0 || ro.Status.Canary.CurrentExperiment != ex.Name {
		t.Fatalf("the rollout must wait at the experiment step: step %v, currentExperiment %q", ro.Status.CurrentStepIndex, ro.Status.Canary.CurrentExperiment)
	}
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 3})
	waitForExperiment(f, "the experiment terminated", func(e *v1alpha1.Experiment) bool {
		return e.Name == ex.Name && e.Spec.Terminate && e.Status.Phase.Completed()
	})
}

func TestUpstreamExampleIstioHostSplitExperimentStep(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	applyExample(f, filepath.Join("traffic-routing-experiment-step", "istio-host-split-experiment-step.yaml"))
	r := f.RolloutNamed("istio-host-split")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("argoproj/rollouts-demo:yellow")
	ex := waitForExperiment(f, "the experiment running", running)
	f.WaitForObject(virtualServices, "istio-host-split-vsvc", "the experiment's 20%", func(u *unstructured.Unstructured) bool {
		w := hostWeights(u)
		var experiment int64
		for host, weight := range w {
			if strings.HasPrefix(host, ex.Name) {
				experiment += weight
			}
		}
		return w["istio-host-split-stable"] == 70 && w["istio-host-split-canary"] == 10 && experiment == 20
	})
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(virtualServices, "istio-host-split-vsvc", "all traffic on stable, the experiment's host gone", func(u *unstructured.Unstructured) bool {
		w := hostWeights(u)
		return len(w) == 2 && w["istio-host-split-stable"] == 100
	})
}

var trafficSplits = schema.GroupVersionResource{Group: "split.smi-spec.io", Version: "v1alpha1", Resource: "trafficsplits"}

// splitWeights reads the weight of each backend Service of a TrafficSplit.
func splitWeights(u *unstructured.Unstructured) map[string]int64 {
	out := map[string]int64{}
	backends, _, _ := unstructured.NestedSlice(u.Object, "spec", "backends")
	for _, b := range backends {
		m, _ := b.(map[string]any)
		svc, _ := m["service"].(string)
		switch w := m["weight"].(type) {
		case int64:
			out[svc] = w
		case string: // v1alpha1 weights are quantities
			n, _ := strconv.ParseInt(w, 10, 64)
			out[svc] = n
		}
	}
	return out
}

func TestUpstreamExampleSMIExperimentStep(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	applyExample(f, filepath.Join("traffic-routing-experiment-step", "rollout-smi-experiment-step.yaml"))
	r := f.RolloutNamed("rollout-smi-experiment")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("argoproj/rollouts-demo:yellow")
	ex := waitForExperiment(f, "the experiment running", running)
	f.WaitForObject(trafficSplits, "rollout-smi-experiment-trafficsplit", "the experiment's 5%", func(u *unstructured.Unstructured) bool {
		w := splitWeights(u)
		var experiment int64
		for svc, weight := range w {
			if strings.HasPrefix(svc, ex.Name) {
				experiment += weight
			}
		}
		return w["rollout-smi-experiment-stable"] == 90 && w["rollout-smi-experiment-canary"] == 5 && experiment == 5
	})
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
}

package restart

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const experimentStep = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: exp
spec:
  replicas: 2
  selector:
    matchLabels: {app: exp}
  template:
    metadata:
      labels: {app: exp}
    spec:
      containers:
      - name: app
        image: exp:v1
  strategy:
    canary:
      steps:
      - setWeight: 50
      - experiment:
          templates:
          - {name: baseline, specRef: stable}
          - {name: canary, specRef: canary}
          analyses:
          - {name: compare, templateName: steady, requiredForCompletion: true}
`

func steadyTemplate(f *framework.T) string {
	return fmt.Sprintf(`
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: steady
spec:
  metrics:
  - name: steady
    interval: 2s
    count: 5
    successCondition: result[0] >= 0
    provider:
      prometheus:
        address: %s
        query: vector(1)
`, f.Env.Cluster.PrometheusURL())
}

// TestAnExperimentStepAcrossARestartCreatesNothingTwice restarts the
// controller while the step's Experiment runs: the new controller takes up
// the same Experiment, its ReplicaSets and its AnalysisRun.
func TestAnExperimentStepAcrossARestartCreatesNothingTwice(t *testing.T) {
	f := framework.New(t)
	f.AnalysisTemplate(steadyTemplate(f))
	r := f.Rollout(experimentStep)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("exp:v2")
	r.WaitFor("the experiment running", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Canary.CurrentExperiment != ""
	})
	f.Env.StopController()
	if err := f.Env.StartController(); err != nil {
		t.Fatal(err)
	}
	r.WaitFor("the new revision promoted after the experiment", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhaseHealthy && ro.Status.StableRS == ro.Status.CurrentPodHash
	})
	ctx := context.Background()
	exs, err := f.Env.Rollouts.ArgoprojV1alpha1().Experiments(f.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs.Items) != 1 || exs.Items[0].Status.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("want one Successful experiment, have %d: %+v", len(exs.Items), exs.Items)
	}
	if runs := f.AnalysisRuns(); len(runs) != 1 {
		t.Fatalf("want one AnalysisRun, have %d", len(runs))
	}
	rss, err := f.Env.Kube.AppsV1().ReplicaSets(f.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	experimentRSs := 0
	for _, rs := range rss.Items {
		if rs.Annotations[v1alpha1.AnnotationExperimentName] != "" {
			experimentRSs++
		}
	}
	if experimentRSs != 2 {
		t.Fatalf("want one ReplicaSet per template, have %d experiment ReplicaSets", experimentRSs)
	}
}

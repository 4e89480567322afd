package alb

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/internal/testpaths"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// TestUpstreamExampleALBExperimentStep applies Argo Rollouts' ALB example
// as written (from ../shared/conformance, never copied here): the canary
// takes 10%, the experiment's Service 20%, then promotion puts everything
// back on stable.
func TestUpstreamExampleALBExperimentStep(t *testing.T) {
	f := framework.New(t)
	dir := testpaths.Shared(t, "conformance", "upstream-examples", "traffic-routing-experiment-step")
	if out, err := f.Env.Cluster.Kubectl(context.Background(), "apply", "-n", f.Namespace, "-f", filepath.Join(dir, "rollout-alb-experiment-step.yaml")); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	const action = "alb.ingress.kubernetes.io/actions.alb-rollout-root"
	startAWSController(f, "alb-rollout-ingress", action)
	r := f.RolloutNamed("alb-rollout")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("argoproj/rollouts-demo:yellow")
	r.WaitFor("the experiment step", func(ro *v1alpha1.Rollout) bool { return ro.Status.Canary.CurrentExperiment != "" })
	ex := r.Get().Status.Canary.CurrentExperiment
	f.WaitForObject(ingresses, "alb-rollout-ingress", "canary 10, experiment 20, stable 70", func(u *unstructured.Unstructured) bool {
		w := weights(u, action)
		var experiment int32
		for svc, weight := range w {
			if strings.HasPrefix(svc, ex) {
				experiment += weight
			}
		}
		return len(w) == 3 && w["alb-rollout-canary"] == 10 && w["alb-rollout-stable"] == 70 && experiment == 20
	})
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(ingresses, "alb-rollout-ingress", "all on stable, the experiment gone", func(u *unstructured.Unstructured) bool {
		w := weights(u, action)
		return len(w) == 2 && w["alb-rollout-stable"] == 100
	})
}

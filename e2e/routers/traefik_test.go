package routers

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const traefikService = `
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata:
  name: demo-weighted
spec:
  weighted:
    services:
    - {name: demo-stable, port: 80, weight: 100}
    - {name: demo-canary, port: 80, weight: 0}
`

var traefikRollout = rolloutOf(`        traefik: {weightedTraefikServiceName: demo-weighted}`, twoSteps)

func traefikWeights(u *unstructured.Unstructured) map[string]int64 {
	services, _, _ := unstructured.NestedSlice(u.Object, "spec", "weighted", "services")
	return backendWeights(services, "name")
}

// startTraefik makes a Traefik canary and waits for its first weight.
func startTraefik(f *framework.T) *framework.R {
	f.Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(traefikServices, traefikService)
	r := f.Rollout(traefikRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	f.WaitForObject(traefikServices, "demo-weighted", "at 20%", weightsAre(traefikWeights, 80, 20))
	return r
}

// A Traefik canary moves the TraefikService's weights step by step, and an
// abort puts everything back on the stable Service.
func TestTraefikCanaryAndAbort(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startTraefik(f)
	r.Promote()
	r.WaitForPausedAtStep(3)
	f.WaitForObject(traefikServices, "demo-weighted", "at 60%", weightsAre(traefikWeights, 40, 60))
	r.Abort()
	f.WaitForObject(traefikServices, "demo-weighted", "back on stable", weightsAre(traefikWeights, 100, 0))
	r.WaitForPhase(v1alpha1.RolloutPhaseDegraded)
	r.WaitForReplicas(map[string]int32{"rev1": 4})
}

func TestTraefikPromotion(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startTraefik(f)
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(traefikServices, "demo-weighted", "all on the new stable", weightsAre(traefikWeights, 100, 0))
	r.WaitForReplicas(map[string]int32{"rev2": 4})
}

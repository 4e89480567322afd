package routers

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const demoMappings = `
apiVersion: getambassador.io/v2
kind: Mapping
metadata:
  name: demo
spec: {prefix: /demo/, rewrite: /, service: demo-stable:80}
`

const demoGRPCMapping = `
apiVersion: getambassador.io/v2
kind: Mapping
metadata:
  name: demo-grpc
spec: {prefix: /demo.Demo/, grpc: true, service: demo-stable.e2e:9090}
`

var ambassadorRollout = rolloutOf(`        ambassador: {mappings: [demo, demo-grpc]}`, twoSteps)

func mappingIs(service string, weight int64) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool {
		s, _, _ := unstructured.NestedString(u.Object, "spec", "service")
		w, _, _ := unstructured.NestedInt64(u.Object, "spec", "weight")
		return s == service && w == weight
	}
}

func startAmbassador(f *framework.T) *framework.R {
	f.Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(mappings, demoMappings)
	f.Create(mappings, demoGRPCMapping)
	r := f.Rollout(ambassadorRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	if get(f, mappings, "demo-canary") != nil {
		f.Fatal("a canary Mapping exists before any canary")
	}
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	f.WaitForObject(mappings, "demo-canary", "at 20%", mappingIs("demo-canary:80", 20))
	f.WaitForObject(mappings, "demo-grpc-canary", "at 20%", mappingIs("demo-canary.e2e:9090", 20))
	return r
}

// An Ambassador canary gets a canary Mapping per listed Mapping, weighted
// step by step; an abort sets them to 0 and then deletes them, and the
// base Mappings are never written.
func TestAmbassadorCanaryAndAbort(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startAmbassador(f)
	before := get(f, mappings, "demo").GetResourceVersion()
	r.Promote()
	r.WaitForPausedAtStep(3)
	f.WaitForObject(mappings, "demo-canary", "at 60%", mappingIs("demo-canary:80", 60))
	r.Abort()
	waitGone(f, mappings, "demo-canary")
	waitGone(f, mappings, "demo-grpc-canary")
	r.WaitForPhase(v1alpha1.RolloutPhaseDegraded)
	if after := get(f, mappings, "demo").GetResourceVersion(); after != before {
		t.Fatalf("the base Mapping was written (%s -> %s)", before, after)
	}
	r.WaitForReplicas(map[string]int32{"rev1": 4})
}

func TestAmbassadorPromotion(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startAmbassador(f)
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	waitGone(f, mappings, "demo-canary")
	waitGone(f, mappings, "demo-grpc-canary")
	r.WaitForReplicas(map[string]int32{"rev2": 4})
}

package plan

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/istio"
)

var vsResource = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "virtualservices"}

const virtualService = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: demo, namespace: default, resourceVersion: "1"}
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

func istioWorld(t *testing.T, steps ...v1alpha1.CanaryStep) *world {
	ro := canaryRollout(steps...)
	c := ro.Spec.Strategy.Canary
	c.StableService, c.CanaryService = "demo-stable", "demo-canary"
	c.TrafficRouting = &v1alpha1.RolloutTrafficRouting{Istio: &v1alpha1.IstioTrafficRouting{
		VirtualService: &v1alpha1.IstioVirtualService{Name: "demo", Routes: []string{"primary"}},
	}}
	w := newWorld(t, ro)
	w.addService("demo-stable")
	w.addService("demo-canary")
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(virtualService), &u.Object); err != nil {
		t.Fatal(err)
	}
	w.routers = []trafficrouting.Router{istio.New("")}
	w.routerObjects = map[trafficrouting.Ref]*unstructured.Unstructured{{Resource: vsResource, Namespace: "default", Name: "demo"}: u}
	return w
}

// vsWeights reads the stable and canary weights of the primary route.
func (w *world) vsWeights() (stable, canary int64) {
	w.t.Helper()
	vs := w.routerObjects[trafficrouting.Ref{Resource: vsResource, Namespace: "default", Name: "demo"}]
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	for _, r := range routes {
		dests, _, _ := unstructured.NestedSlice(r.(map[string]any), "route")
		for _, d := range dests {
			host, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host")
			var weight int64
			switch v := d.(map[string]any)["weight"].(type) {
			case int64:
				weight = v
			case float64:
				weight = int64(v)
			}
			if host == "demo-stable" {
				stable = weight
			} else if host == "demo-canary" {
				canary = weight
			}
		}
	}
	return stable, canary
}

func (w *world) expectWeights(stable, canary int64) {
	w.t.Helper()
	if s, c := w.vsWeights(); s != stable || c != canary {
		w.t.Fatalf("VirtualService weights stable/canary = %d/%d, want %d/%d", s, c, stable, canary)
	}
}

func TestIstioCanaryMovesWeightsThroughTheSteps(t *testing.T) {
	w := istioWorld(t, setWeight(10), pauseFor(""), setWeight(50), pauseFor(""))
	w.settle()
	w.expectWeights(100, 0)
	stableHash := w.hash()
	w.setImage("demo:v2")
	w.settle()
	w.expectStep(1)
	w.expectWeights(90, 10)
	// Behind a router the stable revision keeps every pod; the canary gets enough for 10%.
	w.expectReplicas(map[string]int32{"rev1": 5, "rev2": 1})
	wantCanary := v1alpha1.WeightDestination{Weight: 10, ServiceName: "demo-canary", PodTemplateHash: w.hash()}
	wantStable := v1alpha1.WeightDestination{Weight: 90, ServiceName: "demo-stable", PodTemplateHash: stableHash}
	if wt := w.ro.Status.Canary.Weights; wt == nil || wt.Canary != wantCanary || wt.Stable != wantStable || len(wt.Additional) != 0 || wt.Verified != nil {
		t.Fatalf("status.canary.weights = %+v, want canary %+v and stable %+v only", wt, wantCanary, wantStable)
	}
	w.promote()
	w.settle()
	w.expectStep(3)
	w.expectWeights(50, 50)
	w.expectReplicas(map[string]int32{"rev1": 5, "rev2": 3})
	w.promote()
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	// Promoted: the stable Service now selects the new pods and takes all traffic.
	w.expectWeights(100, 0)
	if got := w.serviceHashes()["demo-stable"]; got != w.hash() {
		t.Fatalf("stable Service selects %s, want %s", got, w.hash())
	}
	// The previous stable waits out scaleDownDelaySeconds (30s) before going.
	w.expectReplicas(map[string]int32{"rev1": 5, "rev2": 5})
	w.advance(31 * time.Second)
	w.settle()
	w.expectReplicas(map[string]int32{"rev2": 5})
}

func TestIstioAbortReturnsAllTrafficToStableAtOnce(t *testing.T) {
	w := istioWorld(t, setWeight(25), pauseFor(""))
	w.settle()
	stable := w.hash()
	w.setImage("demo:v2")
	w.settle()
	w.expectWeights(75, 25)
	w.ro.Status.Abort = true
	w.step()
	// The very first reconcile after the abort takes the weight away.
	w.expectWeights(100, 0)
	w.settle()
	if got := w.serviceHashes()["demo-canary"]; got != stable {
		t.Fatalf("after abort the canary Service selects %s, want stable %s", got, stable)
	}
	// The canary's pods stay for abortScaleDownDelaySeconds (30s), then go.
	w.expectReplicas(map[string]int32{"rev1": 5, "rev2": 2})
	w.advance(31 * time.Second)
	w.settle()
	w.expectReplicas(map[string]int32{"rev1": 5})
}

func TestMissingVirtualServiceIsInvalidSpecAndNothingMoves(t *testing.T) {
	w := istioWorld(t, setWeight(25), pauseFor(""))
	w.routerObjects = map[trafficrouting.Ref]*unstructured.Unstructured{}
	p := w.step()
	c := condition(p.Status, v1alpha1.InvalidSpec)
	// DIFFERS FROM UPSTREAM: Argo Rollouts reports the field
	// spec.strategy.canary.trafficRouting.istio.virtualService.name with the
	// VirtualService's name as the invalid value and the API server's
	// NotFound message.
	want := `The Rollout "demo" is invalid: spec.strategy.canary.trafficRouting.istio: Invalid value: "": VirtualService "default/demo" not found`
	if c == nil || c.Message != want || len(p.RouterWrites) != 0 || p.Create != nil {
		t.Fatalf("InvalidSpec = %+v, router writes %d; want the message %q", c, len(p.RouterWrites), want)
	}
}

func TestAbortAtEveryStepTakesTheWeightAwayInTheSameReconcile(t *testing.T) {
	for abortAt := int32(1); abortAt <= 3; abortAt += 2 {
		w := istioWorld(t, setWeight(10), pauseFor(""), setWeight(50), pauseFor(""))
		w.settle()
		w.setImage("demo:v2")
		w.settle()
		for *w.ro.Status.CurrentStepIndex < abortAt {
			w.promote()
			w.settle()
		}
		if _, canary := w.vsWeights(); canary != map[int32]int64{1: 10, 3: 50}[abortAt] {
			t.Fatalf("step %d: the canary carries weight %d before the abort, want the step's", abortAt, canary)
		}
		w.ro.Status.Abort = true
		w.step()
		if s, c := w.vsWeights(); s != 100 || c != 0 {
			t.Fatalf("abort at step %d: weights %d/%d after one reconcile, want 100/0", abortAt, s, c)
		}
	}
}

func TestDynamicStableScaleShrinksStableWithItsTraffic(t *testing.T) {
	w := istioWorld(t, setWeight(50), pauseFor(""))
	w.ro.Spec.Strategy.Canary.DynamicStableScale = true
	w.ro.Spec.Replicas = int32Ptr(4)
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.expectWeights(50, 50)
	// Half the traffic left the stable side, and so did half its pods.
	w.expectReplicas(map[string]int32{"rev1": 2, "rev2": 2})
}

package plan

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
	"github.com/serin-dev/serin/pkg/trafficrouting/istio"
)

var ingressResource = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}

const albIngress = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: demo, namespace: default, resourceVersion: "1"}
spec:
  ingressClassName: alb
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: demo-root, port: {name: use-annotation}}}
`

// albWorld is a canary behind an ALB Ingress whose rules send to
// demo-root, between demo-stable and demo-canary or, with pingPong, between
// demo-ping and demo-pong.
func albWorld(t *testing.T, pingPong bool, steps ...v1alpha1.CanaryStep) *world {
	ro := canaryRollout(steps...)
	c := ro.Spec.Strategy.Canary
	c.TrafficRouting = &v1alpha1.RolloutTrafficRouting{ALB: &v1alpha1.ALBTrafficRouting{Ingress: "demo", ServicePort: 80, RootService: "demo-root"}}
	w := newWorld(t, ro)
	if pingPong {
		c.PingPong = &v1alpha1.PingPongSpec{PingService: "demo-ping", PongService: "demo-pong"}
		w.addService("demo-ping")
		w.addService("demo-pong")
	} else {
		c.StableService, c.CanaryService = "demo-stable", "demo-canary"
		w.addService("demo-stable")
		w.addService("demo-canary")
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(albIngress), &u.Object); err != nil {
		t.Fatal(err)
	}
	w.routers = []trafficrouting.Router{alb.New("")}
	w.routerObjects = map[trafficrouting.Ref]*unstructured.Unstructured{{Resource: ingressResource, Namespace: "default", Name: "demo"}: u}
	return w
}

// albWeights reads the forward action's weights by Service.
func (w *world) albWeights() map[string]int64 {
	w.t.Helper()
	ing := w.routerObjects[trafficrouting.Ref{Resource: ingressResource, Namespace: "default", Name: "demo"}]
	var action struct {
		ForwardConfig struct {
			TargetGroups []struct {
				ServiceName string
				Weight      int64
			}
		}
	}
	raw := ing.GetAnnotations()["alb.ingress.kubernetes.io/actions.demo-root"]
	if err := json.Unmarshal([]byte(raw), &action); err != nil {
		w.t.Fatalf("forward action %q: %v", raw, err)
	}
	out := map[string]int64{}
	for _, tg := range action.ForwardConfig.TargetGroups {
		out[tg.ServiceName] = tg.Weight
	}
	return out
}

func (w *world) expectALB(want map[string]int64) {
	w.t.Helper()
	got := w.albWeights()
	if len(got) != len(want) {
		w.t.Fatalf("ALB weights %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			w.t.Fatalf("ALB weights %v, want %v", got, want)
		}
	}
}

func TestALBCanaryMovesWeightsAndAbortTakesThemAwayInOneReconcile(t *testing.T) {
	w := albWorld(t, false, setWeight(20), pauseFor(""), setWeight(60), pauseFor(""))
	w.settle()
	w.expectALB(map[string]int64{"demo-stable": 100, "demo-canary": 0})
	w.setImage("demo:v2")
	w.settle()
	w.expectALB(map[string]int64{"demo-stable": 80, "demo-canary": 20})
	w.promote()
	w.settle()
	w.expectALB(map[string]int64{"demo-stable": 40, "demo-canary": 60})
	w.ro.Status.Abort = true
	p := w.step()
	w.expectALB(map[string]int64{"demo-stable": 100, "demo-canary": 0})
	// Traffic leaves the canary before any of its pods does.
	for _, rs := range p.ReplicaSetUpdates() {
		if rs.Labels[v1alpha1.LabelPodTemplateHash] == w.hash() && rsReplicas(rs) < 3 {
			t.Fatalf("the canary was scaled down to %d in the reconcile that moved its traffic", rsReplicas(rs))
		}
	}
	// The next reconcile writes nothing more to the Ingress.
	if p := w.step(); len(p.RouterWrites) != 0 {
		t.Fatalf("a second reconcile after the abort wrote the Ingress again: %+v", p.RouterWrites)
	}
}

func TestALBPingPongPromotionSwapsTheServices(t *testing.T) {
	w := albWorld(t, true, setWeight(25), pauseFor(""))
	w.settle()
	v1 := w.hash()
	if got := w.ro.Status.Canary.StablePingPong; got != v1alpha1.PPPing {
		t.Fatalf("after the first revision stablePingPong = %q, want ping", got)
	}
	w.expectALB(map[string]int64{"demo-ping": 100, "demo-pong": 0})
	w.setImage("demo:v2")
	w.settle()
	v2 := w.hash()
	// pong is the canary: it selects the new pods and carries the step's weight.
	if got := w.serviceHashes(); got["demo-pong"] != v2 || got["demo-ping"] != "" {
		t.Fatalf("Service selectors %v, want pong on %s and ping untouched", got, v2)
	}
	w.expectALB(map[string]int64{"demo-ping": 75, "demo-pong": 25})
	if wt := w.ro.Status.Canary.Weights; wt == nil || wt.Canary.ServiceName != "" || wt.Canary.Weight != 25 {
		t.Fatalf("status.canary.weights = %+v, want weight 25 and no Service name (as upstream with pingPong)", wt)
	}
	w.promote()
	w.settle()
	if got := w.ro.Status.Canary.StablePingPong; got != v1alpha1.PPPong {
		t.Fatalf("after promotion stablePingPong = %q, want pong", got)
	}
	// pong is stable now and takes everything; ping becomes the next canary.
	w.expectALB(map[string]int64{"demo-ping": 0, "demo-pong": 100})
	w.setImage("demo:v3")
	w.settle()
	if got := w.serviceHashes(); got["demo-ping"] != w.hash() || got["demo-pong"] != v2 {
		t.Fatalf("Service selectors %v, want ping on %s and pong still on %s (v1 was %s)", got, w.hash(), v2, v1)
	}
	w.expectALB(map[string]int64{"demo-ping": 25, "demo-pong": 75})
}

const pingPongVirtualService = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: demo, namespace: default, resourceVersion: "1"}
spec:
  hosts: [demo]
  http:
  - name: primary
    route:
    - destination: {host: demo-ping}
      weight: 100
    - destination: {host: demo-pong}
      weight: 0
`

func TestIstioPingPongSplitsBetweenPingAndPong(t *testing.T) {
	ro := canaryRollout(setWeight(30), pauseFor(""))
	c := ro.Spec.Strategy.Canary
	c.PingPong = &v1alpha1.PingPongSpec{PingService: "demo-ping", PongService: "demo-pong"}
	c.TrafficRouting = &v1alpha1.RolloutTrafficRouting{Istio: &v1alpha1.IstioTrafficRouting{
		VirtualService: &v1alpha1.IstioVirtualService{Name: "demo", Routes: []string{"primary"}},
	}}
	w := newWorld(t, ro)
	w.addService("demo-ping")
	w.addService("demo-pong")
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(pingPongVirtualService), &u.Object); err != nil {
		t.Fatal(err)
	}
	w.routers = []trafficrouting.Router{istio.New("")}
	vsRef := trafficrouting.Ref{Resource: vsResource, Namespace: "default", Name: "demo"}
	w.routerObjects = map[trafficrouting.Ref]*unstructured.Unstructured{vsRef: u}
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	if cond := condition(w.ro.Status, v1alpha1.InvalidSpec); cond != nil {
		t.Fatalf("InvalidSpec: %s", cond.Message)
	}
	route, _, _ := unstructured.NestedSlice(w.routerObjects[vsRef].Object, "spec", "http")
	got, _ := json.Marshal(route[0].(map[string]any)["route"])
	want := `[{"destination":{"host":"demo-ping"},"weight":70},{"destination":{"host":"demo-pong"},"weight":30}]`
	if string(got) != want {
		t.Fatalf("route %s, want %s", got, want)
	}
	if w.serviceHashes()["demo-pong"] != w.hash() {
		t.Fatalf("the canary pong Service does not select the new pods: %v", w.serviceHashes())
	}
	w.promote()
	w.settle()
	if w.ro.Status.Canary.StablePingPong != v1alpha1.PPPong {
		t.Fatalf("stablePingPong = %q after promotion, want pong", w.ro.Status.Canary.StablePingPong)
	}
}

func TestPingPongSpecIsValidatedAsUpstream(t *testing.T) {
	ro := canaryRollout(setWeight(10))
	c := ro.Spec.Strategy.Canary
	c.PingPong = &v1alpha1.PingPongSpec{PingService: "same", PongService: "same"}
	c.TrafficRouting = &v1alpha1.RolloutTrafficRouting{ALB: &v1alpha1.ALBTrafficRouting{Ingress: "demo", ServicePort: 80}}
	var got []string
	for _, e := range Validate(ro) {
		got = append(got, e.Error())
	}
	want := []string{
		`spec.strategy.canary.pingPong.pingService: Invalid value: "same": ` + msgPingPongDuplicate,
		`spec.strategy.canary.trafficRouting.alb.rootService: Invalid value: "": ` + msgPingPongALBRoot,
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("errors\n%q\nwant\n%q", got, want)
	}
	c.PingPong = &v1alpha1.PingPongSpec{PingService: "ping"}
	c.TrafficRouting = &v1alpha1.RolloutTrafficRouting{Nginx: &v1alpha1.NginxTrafficRouting{StableIngress: "web"}}
	c.StableService, c.CanaryService = "s", "c"
	got = nil
	for _, e := range Validate(ro) {
		got = append(got, e.Error())
	}
	want = []string{
		`spec.strategy.canary.trafficRouting.alb: Invalid value: null: ` + msgPingPongRouterOnly,
		`spec.strategy.canary.pingPong.pongService: Invalid value: "": ` + msgPingPongBoth,
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("errors\n%q\nwant\n%q", got, want)
	}
}

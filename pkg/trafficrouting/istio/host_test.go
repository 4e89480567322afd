package istio

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const hostRollout = `
metadata: {name: shop, namespace: prod, uid: ro-uid}
spec:
  strategy:
    canary:
      stableService: shop-stable
      canaryService: shop-canary
      trafficRouting:
        istio:
          virtualService:
            name: shop-vs
            routes: [main]
`

// A VirtualService with a route to split, another one to leave alone, and
// fields users write that the router must keep.
const hostVS = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: shop-vs, namespace: prod, resourceVersion: "7"}
spec:
  hosts: [shop.example.com]
  gateways: [public]
  http:
  - name: main
    match:
    - uri: {prefix: /}
    retries: {attempts: 3, perTryTimeout: 2s}
    timeout: 10s
    route:
    - destination: {host: shop-stable.prod.svc.cluster.local, port: {number: 8080}}
      weight: 100
      headers: {response: {set: {x-side: stable}}}
    - destination: {host: shop-canary, port: {number: 8080}}
      weight: 0
  - name: admin
    route:
    - destination: {host: admin}
`

func vsRef(ns, name string) trafficrouting.Ref {
	return trafficrouting.Ref{Resource: (&Router{version: DefaultAPIVersion}).VirtualServices(), Namespace: ns, Name: name}
}

func refOf(u *unstructured.Unstructured) trafficrouting.Ref {
	r := &Router{version: DefaultAPIVersion}
	res := r.VirtualServices()
	if u.GetKind() == "DestinationRule" {
		res = r.DestinationRules()
	}
	return trafficrouting.Ref{Resource: res, Namespace: u.GetNamespace(), Name: u.GetName()}
}

func hostDesired(w int32) trafficrouting.Desired {
	return trafficrouting.Desired{StableService: "shop-stable", CanaryService: "shop-canary", CanaryWeight: w, MaxWeight: 100}
}

func observe(objs ...*unstructured.Unstructured) map[trafficrouting.Ref]*unstructured.Unstructured {
	out := map[trafficrouting.Ref]*unstructured.Unstructured{}
	for _, o := range objs {
		out[refOf(o)] = o
	}
	return out
}

// planOnce plans, checks that exactly one object is updated, and that
// planning again on the result writes nothing.
func planOnce(t *testing.T, ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) *unstructured.Unstructured {
	t.Helper()
	r := New("")
	w, err := r.Plan(ro, observed, d)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(w.Updates) != 1 || len(w.Creates)+len(w.Deletes) != 0 {
		t.Fatalf("want one update, got %+v", w)
	}
	again, err := r.Plan(ro, trtest.Apply(observed, w), d)
	if err != nil {
		t.Fatalf("Plan again: %v", err)
	}
	trtest.NoWrites(t, again)
	return w.Updates[0].Unstructured
}

func TestHostSplitTen(t *testing.T) {
	ro := trtest.Rollout(t, hostRollout)
	got := planOnce(t, ro, observe(trtest.Obj(t, hostVS)), hostDesired(10))
	trtest.Equal(t, got, `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: shop-vs, namespace: prod, resourceVersion: "7"}
spec:
  hosts: [shop.example.com]
  gateways: [public]
  http:
  - name: main
    match:
    - uri: {prefix: /}
    retries: {attempts: 3, perTryTimeout: 2s}
    timeout: 10s
    route:
    - destination: {host: shop-stable.prod.svc.cluster.local, port: {number: 8080}}
      weight: 90
      headers: {response: {set: {x-side: stable}}}
    - destination: {host: shop-canary, port: {number: 8080}}
      weight: 10
  - name: admin
    route:
    - destination: {host: admin}
`)
}

func TestHostSplitStepsAndAbort(t *testing.T) {
	ro := trtest.Rollout(t, hostRollout)
	r := New("")
	observed := observe(trtest.Obj(t, hostVS))
	for _, step := range []struct{ canary, stable int32 }{{10, 90}, {25, 75}, {50, 50}, {0, 100}} {
		w, err := r.Plan(ro, observed, hostDesired(step.canary))
		if err != nil {
			t.Fatalf("weight %d: %v", step.canary, err)
		}
		observed = trtest.Apply(observed, w)
		tw, err := weightsOf(r, ro, observed, hostDesired(step.canary))
		if err != nil {
			t.Fatalf("Weights: %v", err)
		}
		if tw.Canary.Weight != step.canary || tw.Stable.Weight != step.stable {
			t.Fatalf("weight %d: read back %d/%d, want %d/%d", step.canary, tw.Canary.Weight, tw.Stable.Weight, step.canary, step.stable)
		}
		if tw.Canary.ServiceName != "shop-canary" || tw.Stable.ServiceName != "shop-stable" {
			t.Fatalf("services %+v", tw)
		}
	}
	// Aborted: back where it started, except for the explicit weights.
	trtest.Equal(t, observed[vsRef("prod", "shop-vs")], hostVS)
}

func TestHostSplitAlreadyThereWritesNothing(t *testing.T) {
	w, err := New("").Plan(trtest.Rollout(t, hostRollout), observe(trtest.Obj(t, hostVS)), hostDesired(0))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, w)
}

func TestSingleUnnamedRouteNeedsNoRouteNames(t *testing.T) {
	ro := trtest.Rollout(t, hostRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualService.Routes = nil
	vs := trtest.Obj(t, `
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: shop-vs, namespace: prod}
spec:
  http:
  - route:
    - destination: {host: shop-stable}
      weight: 100
    - destination: {host: shop-canary}
`)
	got := planOnce(t, ro, observe(vs), hostDesired(25))
	trtest.Equal(t, got, `
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: shop-vs, namespace: prod}
spec:
  http:
  - route:
    - destination: {host: shop-stable}
      weight: 75
    - destination: {host: shop-canary}
      weight: 25
`)
}

func TestVirtualServicesInOtherNamespaces(t *testing.T) {
	ro := trtest.Rollout(t, hostRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualService = nil
	ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualServices = []v1alpha1.IstioVirtualService{
		{Name: "edge-vs.gateways", Routes: []string{"main"}},
		{Name: "mesh/shop-vs", Routes: []string{"main"}},
	}
	refs := New("").References(ro)
	want := []trafficrouting.Ref{vsRef("gateways", "edge-vs"), vsRef("mesh", "shop-vs")}
	if len(refs) != 2 || refs[0] != want[0] || refs[1] != want[1] {
		t.Fatalf("References = %+v", refs)
	}
	edge := trtest.Obj(t, hostVS)
	edge.SetName("edge-vs")
	edge.SetNamespace("gateways")
	mesh := trtest.Obj(t, hostVS)
	mesh.SetNamespace("mesh")
	w, err := New("").Plan(ro, observe(edge, mesh), hostDesired(50))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Updates) != 2 || w.Updates[0].GetNamespace() != "gateways" || w.Updates[1].GetNamespace() != "mesh" {
		t.Fatalf("want both VirtualServices updated in order, got %d", len(w.Updates))
	}
}

func TestExperimentDestinationsComeAndGo(t *testing.T) {
	ro := trtest.Rollout(t, hostRollout)
	r := New("")
	observed := observe(trtest.Obj(t, hostVS))
	d := hostDesired(20)
	d.Additional = []v1alpha1.WeightDestination{{ServiceName: "shop-exp", Weight: 10, PodTemplateHash: "e1"}}
	w, err := r.Plan(ro, observed, d)
	if err != nil {
		t.Fatal(err)
	}
	observed = trtest.Apply(observed, w)
	routes, _, _ := unstructured.NestedSlice(observed[vsRef("prod", "shop-vs")].Object, "spec", "http")
	trtest.EqualValue(t, routes[0].(map[string]any)["route"], `
- destination: {host: shop-stable.prod.svc.cluster.local, port: {number: 8080}}
  weight: 70
  headers: {response: {set: {x-side: stable}}}
- destination: {host: shop-canary, port: {number: 8080}}
  weight: 20
- destination: {host: shop-exp}
  weight: 10
`)
	tw, err := weightsOf(r, ro, observed, d)
	if err != nil || len(tw.Additional) != 1 || tw.Additional[0].Weight != 10 || tw.Additional[0].PodTemplateHash != "e1" {
		t.Fatalf("Weights = %+v, %v", tw, err)
	}
	// The experiment is over: its destination goes, the stable gets its share.
	w, err = r.Plan(ro, observed, hostDesired(20))
	if err != nil {
		t.Fatal(err)
	}
	observed = trtest.Apply(observed, w)
	tw, _ = weightsOf(r, ro, observed, hostDesired(20))
	routes, _, _ = unstructured.NestedSlice(observed[vsRef("prod", "shop-vs")].Object, "spec", "http")
	if n := len(routes[0].(map[string]any)["route"].([]any)); n != 2 || tw.Stable.Weight != 80 {
		t.Fatalf("after the experiment: %d destinations, stable %d", n, tw.Stable.Weight)
	}
}

func TestTLSAndTCPRoutes(t *testing.T) {
	ro := trtest.Rollout(t, `
metadata: {name: db, namespace: prod}
spec:
  strategy:
    canary:
      stableService: db-stable
      canaryService: db-canary
      trafficRouting:
        istio:
          virtualService:
            name: db-vs
            tlsRoutes: [{port: 443, sniHosts: [b.example.com, a.example.com]}]
            tcpRoutes: [{port: 5432}]
`)
	vs := trtest.Obj(t, `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: db-vs, namespace: prod}
spec:
  tls:
  - match: [{port: 443, sniHosts: [a.example.com, b.example.com]}]
    route:
    - {destination: {host: db-stable}, weight: 100}
    - {destination: {host: db-canary}, weight: 0}
  - match: [{port: 8443, sniHosts: [a.example.com]}]
    route:
    - {destination: {host: other}, weight: 100}
  tcp:
  - match: [{port: 5432}]
    route:
    - {destination: {host: db-stable, port: {number: 5432}}, weight: 100}
    - {destination: {host: db-canary, port: {number: 5432}}}
`)
	d := trafficrouting.Desired{StableService: "db-stable", CanaryService: "db-canary", CanaryWeight: 30}
	got := planOnce(t, ro, observe(vs), d)
	trtest.Equal(t, got, `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: db-vs, namespace: prod}
spec:
  tls:
  - match: [{port: 443, sniHosts: [a.example.com, b.example.com]}]
    route:
    - {destination: {host: db-stable}, weight: 70}
    - {destination: {host: db-canary}, weight: 30}
  - match: [{port: 8443, sniHosts: [a.example.com]}]
    route:
    - {destination: {host: other}, weight: 100}
  tcp:
  - match: [{port: 5432}]
    route:
    - {destination: {host: db-stable, port: {number: 5432}}, weight: 70}
    - {destination: {host: db-canary, port: {number: 5432}}, weight: 30}
`)
	ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualService.TCPRoutes[0].Port = 3306
	_, err := New("").Plan(ro, observe(vs), d)
	trtest.ErrContains(t, err, `"prod/db-vs"`, "no TCP route matches port 3306")
}

func TestAVirtualServiceOfTLSRoutesAloneMayStillListHTTPRoutes(t *testing.T) {
	// Argo Rollouts looks for the named HTTP routes only where spec.http
	// exists, so this Rollout is valid there and must be here.
	ro := trtest.Rollout(t, `
metadata: {name: db, namespace: prod}
spec:
  strategy:
    canary:
      stableService: db-stable
      canaryService: db-canary
      trafficRouting:
        istio:
          virtualService:
            name: db-vs
            routes: [primary]
            tlsRoutes: [{port: 443, sniHosts: [db.example.com]}]
`)
	vs := trtest.Obj(t, `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: db-vs, namespace: prod}
spec:
  tls:
  - match: [{port: 443, sniHosts: [db.example.com]}]
    route:
    - {destination: {host: db-stable}, weight: 100}
    - {destination: {host: db-canary}, weight: 0}
`)
	got := planOnce(t, ro, observe(vs), trafficrouting.Desired{StableService: "db-stable", CanaryService: "db-canary", CanaryWeight: 25})
	trtest.Equal(t, got, `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: db-vs, namespace: prod}
spec:
  tls:
  - match: [{port: 443, sniHosts: [db.example.com]}]
    route:
    - {destination: {host: db-stable}, weight: 75}
    - {destination: {host: db-canary}, weight: 25}
`)
}

func TestErrorsWriteNothing(t *testing.T) {
	ro := trtest.Rollout(t, hostRollout)
	r := New("")
	cases := []struct {
		name     string
		routes   []string
		observed map[trafficrouting.Ref]*unstructured.Unstructured
		want     []string
	}{
		{"missing VirtualService", []string{"main"}, observe(), []string{"VirtualService", `"prod/shop-vs"`, "not found"}},
		{"missing route", []string{"main", "checkout"}, observe(trtest.Obj(t, hostVS)), []string{`"prod/shop-vs"`, `HTTP route "checkout" not found`}},
		{"route without the canary", []string{"admin"}, observe(trtest.Obj(t, hostVS)), []string{`"prod/shop-vs"`, `HTTP route "admin"`, `canary Service "shop-canary" not found`}},
		{"several routes, none named", nil, observe(trtest.Obj(t, hostVS)), []string{`"prod/shop-vs"`, "exactly one HTTP route"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualService.Routes = c.routes
			w, err := r.Plan(ro, c.observed, hostDesired(10))
			trtest.ErrContains(t, err, c.want...)
			trtest.NoWrites(t, w)
			// Validate finds the same problem without planning.
			trtest.ErrContains(t, r.Validate(ro, c.observed), c.want...)
		})
	}
	ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualService.Routes = []string{"main"}
	if err := r.Validate(ro, observe(trtest.Obj(t, hostVS))); err != nil {
		t.Fatalf("a VirtualService that can carry the split: %v", err)
	}
}

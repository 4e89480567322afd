package apisix

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const rolloutDoc = `
metadata: {name: cart, namespace: shop, uid: 5e0f-cart}
spec:
  strategy:
    canary:
      stableService: cart-stable
      canaryService: cart-canary
      trafficRouting:
        managedRoutes: [{name: cart-beta}]
        apisix:
          route: {name: cart-route, rules: [cart-rule]}
`

const mainRoute = `
apiVersion: apisix.apache.org/v2
kind: ApisixRoute
metadata: {name: cart-route, namespace: shop, resourceVersion: "3", labels: {app: cart}}
spec:
  http:
  - name: cart-rule
    match: {hosts: [cart.example.com], paths: [/*]}
    backends:
    - {serviceName: cart-stable, servicePort: 80, weight: 100}
    - {serviceName: cart-canary, servicePort: 80, weight: 0}
  - name: other
    match: {paths: [/other]}
    backends: [{serviceName: other, servicePort: 80}]
`

func desired(w int32) trafficrouting.Desired {
	return trafficrouting.Desired{StableService: "cart-stable", CanaryService: "cart-canary", CanaryWeight: w, MaxWeight: 100}
}

func observe(t *testing.T, docs ...string) map[trafficrouting.Ref]*unstructured.Unstructured {
	out := map[trafficrouting.Ref]*unstructured.Unstructured{}
	for _, doc := range docs {
		obj := trtest.Obj(t, doc)
		out[trafficrouting.Ref{Resource: Routes, Namespace: obj.GetNamespace(), Name: obj.GetName()}] = obj
	}
	return out
}

func TestSetsBackendWeightsThenNothing(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	observed := observe(t, mainRoute)
	if err := New().Validate(ro, observed); err != nil {
		t.Fatal(err)
	}
	w, err := New().Plan(ro, observed, desired(20))
	if err != nil || len(w.Updates) != 1 || len(w.Creates)+len(w.Deletes) != 0 {
		t.Fatalf("want one update, got %+v, %v", w, err)
	}
	if !w.Updates[0].Replace {
		t.Fatal("an ApisixRoute may be updated, not patched, under Argo Rollouts' ClusterRole")
	}
	trtest.Equal(t, w.Updates[0].Unstructured, `
apiVersion: apisix.apache.org/v2
kind: ApisixRoute
metadata: {name: cart-route, namespace: shop, resourceVersion: "3", labels: {app: cart}}
spec:
  http:
  - name: cart-rule
    match: {hosts: [cart.example.com], paths: [/*]}
    backends:
    - {serviceName: cart-stable, servicePort: 80, weight: 80}
    - {serviceName: cart-canary, servicePort: 80, weight: 20}
  - name: other
    match: {paths: [/other]}
    backends: [{serviceName: other, servicePort: 80}]
`)
	again, err := New().Plan(ro, trtest.Apply(observed, w), desired(20))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)
}

func headerRouteStep() []v1alpha1.SetHeaderRoute {
	return []v1alpha1.SetHeaderRoute{{Name: "cart-beta", Match: []v1alpha1.HeaderRoutingMatch{
		{HeaderName: "x-beta", HeaderValue: &v1alpha1.StringMatch{Exact: "yes"}},
		{HeaderName: "user-agent", HeaderValue: &v1alpha1.StringMatch{Prefix: "Mozilla"}},
	}}}
}

func TestHeaderRouteCreatedUpdatedAndRemoved(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	observed := observe(t, mainRoute)
	d := desired(10)
	d.HeaderRoutes = headerRouteStep()
	w, err := New().Plan(ro, observed, d)
	if err != nil || len(w.Updates) != 1 || len(w.Creates) != 1 {
		t.Fatalf("want an update and a create, got %+v, %v", w, err)
	}
	trtest.Equal(t, w.Creates[0].Unstructured, `
apiVersion: apisix.apache.org/v2
kind: ApisixRoute
metadata:
  name: cart-beta
  namespace: shop
  labels: {app: cart}
  ownerReferences:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: cart, uid: 5e0f-cart, controller: true, blockOwnerDeletion: true}
spec:
  http:
  - name: cart-rule
    priority: 1
    match:
      hosts: [cart.example.com]
      paths: [/*]
      exprs:
      - {subject: {scope: Header, name: x-beta}, op: Equal, value: "yes"}
      - {subject: {scope: Header, name: user-agent}, op: RegexMatch, value: "^Mozilla.*"}
    backends:
    - {serviceName: cart-canary, servicePort: 80, weight: 100}
  - name: other
    match: {paths: [/other]}
    backends: [{serviceName: other, servicePort: 80}]
`)
	observed = trtest.Apply(observed, w)
	again, err := New().Plan(ro, observed, d)
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)

	// A new match rewrites the expressions, keeping the priority.
	d.HeaderRoutes[0].Match = d.HeaderRoutes[0].Match[:1]
	d.HeaderRoutes[0].Match[0].HeaderValue = &v1alpha1.StringMatch{Regex: "y.*"}
	w, err = New().Plan(ro, observed, d)
	if err != nil || len(w.Updates) != 1 || w.Updates[0].Ref.Name != "cart-beta" {
		t.Fatalf("want the header route updated, got %+v, %v", w, err)
	}
	rules, _, _ := unstructured.NestedSlice(w.Updates[0].Object, "spec", "http")
	trtest.EqualValue(t, rules[0].(map[string]any)["match"], `
hosts: [cart.example.com]
paths: [/*]
exprs: [{subject: {scope: Header, name: x-beta}, op: RegexMatch, value: "y.*"}]
`)
	if p := rules[0].(map[string]any)["priority"]; p != int64(1) {
		t.Fatalf("priority = %v", p)
	}
}

// An abort is one pass: the canary backend to 0 and the header route,
// which sends matching requests to the canary, deleted.
func TestAbortPutsAllOnStable(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	observed := observe(t, mainRoute)
	d := desired(50)
	d.HeaderRoutes = headerRouteStep()
	w, _ := New().Plan(ro, observed, d)
	observed = trtest.Apply(observed, w)
	w, err := New().Plan(ro, observed, desired(0))
	if err != nil || len(w.Updates) != 1 || len(w.Deletes) != 1 || w.Deletes[0].Name != "cart-beta" {
		t.Fatalf("want an update and a delete, got %+v, %v", w, err)
	}
	backends, _, _ := unstructured.NestedSlice(w.Updates[0].Object, "spec", "http")
	trtest.EqualValue(t, backends[0].(map[string]any)["backends"], `
- {serviceName: cart-stable, servicePort: 80, weight: 100}
- {serviceName: cart-canary, servicePort: 80, weight: 0}
`)
	again, err := New().Plan(ro, trtest.Apply(observed, w), desired(0))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)
}

func TestErrors(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	trtest.ErrContains(t, New().Validate(ro, nil), `ApisixRoute "cart-route" not found`)
	noRule := observe(t, `
apiVersion: apisix.apache.org/v2
kind: ApisixRoute
metadata: {name: cart-route, namespace: shop}
spec: {http: [{name: default, backends: [{serviceName: cart-stable}]}]}
`)
	trtest.ErrContains(t, New().Validate(ro, noRule), `http rule "cart-rule" not found`)
	ro.Spec.Strategy.Canary.TrafficRouting.Apisix.Route.Rules = nil
	ro.Spec.Strategy.Canary.TrafficRouting.Apisix.Route.Name = "cart-route"
	noCanary := observe(t, `
apiVersion: apisix.apache.org/v2
kind: ApisixRoute
metadata: {name: cart-route, namespace: shop}
spec: {http: [{name: cart-route, backends: [{serviceName: cart-stable}]}]}
`)
	trtest.ErrContains(t, New().Validate(ro, noCanary), `backend "cart-canary" not found`)

	taken := observe(t, mainRoute, `
apiVersion: apisix.apache.org/v2
kind: ApisixRoute
metadata: {name: cart-beta, namespace: shop}
spec: {http: []}
`)
	ro = trtest.Rollout(t, rolloutDoc)
	d := desired(10)
	d.HeaderRoutes = headerRouteStep()
	w, err := New().Plan(ro, taken, d)
	trtest.ErrContains(t, err, "duplicate ApisixRoute [cart-beta] already exists")
	trtest.NoWrites(t, w)
	// Not in force, someone else's route of that name is left alone.
	w, err = New().Plan(ro, taken, desired(10))
	if err != nil || len(w.Deletes) != 0 {
		t.Fatalf("got %+v, %v", w, err)
	}
}

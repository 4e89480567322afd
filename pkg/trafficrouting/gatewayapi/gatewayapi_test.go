package gatewayapi

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const gwRollout = `
metadata: {name: demo, namespace: apps}
spec:
  strategy:
    canary:
      stableService: demo-stable
      canaryService: demo-canary
      trafficRouting:
        managedRoutes: [{name: beta-testers}]
        plugins:
          argoproj-labs/gatewayAPI:
            httpRoute: demo
            namespace: edge
`

const gwRoute = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: demo, namespace: edge, resourceVersion: "3"}
spec:
  parentRefs: [{name: public-gw, namespace: infra}]
  hostnames: [demo.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
      method: GET
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {add: [{name: x-via, value: gw}]}
    timeouts: {request: 5s}
    backendRefs:
    - {name: demo-stable, port: 80, weight: 100}
    - {name: demo-canary, port: 80, weight: 0}
  - matches:
    - path: {type: PathPrefix, value: /docs}
    backendRefs:
    - {name: docs, port: 80}
`

func refOf(u *unstructured.Unstructured) trafficrouting.Ref {
	r := New(Options{}).(*Router)
	k := httpKind
	switch u.GetKind() {
	case "GRPCRoute":
		k = grpcKind
	case "TCPRoute":
		k = tcpKind
	}
	return trafficrouting.Ref{Resource: r.gvr(k), Namespace: u.GetNamespace(), Name: u.GetName()}
}

func observe(objs ...*unstructured.Unstructured) map[trafficrouting.Ref]*unstructured.Unstructured {
	out := map[trafficrouting.Ref]*unstructured.Unstructured{}
	for _, o := range objs {
		out[refOf(o)] = o
	}
	return out
}

func desired(w int32) trafficrouting.Desired {
	return trafficrouting.Desired{StableService: "demo-stable", CanaryService: "demo-canary", CanaryWeight: w, MaxWeight: 100}
}

func planOne(t *testing.T, ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) *unstructured.Unstructured {
	t.Helper()
	r := New(Options{})
	w, err := r.Plan(ro, observed, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Updates) != 1 || len(w.Creates)+len(w.Deletes) != 0 {
		t.Fatalf("want one update, got %+v", w)
	}
	again, err := r.Plan(ro, trtest.Apply(observed, w), d)
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)
	return w.Updates[0].Unstructured
}

func TestHTTPRouteCanary(t *testing.T) {
	ro := trtest.Rollout(t, gwRollout)
	got := planOne(t, ro, observe(trtest.Obj(t, gwRoute)), desired(30))
	want := strings.Replace(gwRoute, `resourceVersion: "3"}`, `resourceVersion: "3", labels: {rollouts.argoproj.io/gatewayapi-canary: in-progress}}`, 1)
	want = strings.Replace(want, "port: 80, weight: 100}", "port: 80, weight: 70}", 1)
	want = strings.Replace(want, "port: 80, weight: 0}", "port: 80, weight: 30}", 1)
	trtest.Equal(t, got, want)

	tw, err := weightsOf(New(Options{}), ro, observe(got), desired(30))
	if err != nil || tw.Canary.Weight != 30 || tw.Stable.Weight != 70 {
		t.Fatalf("Weights = %+v, %v", tw, err)
	}
	// Back to 0: weights reset and the label goes.
	back := planOne(t, ro, observe(got), desired(0))
	trtest.Equal(t, back, gwRoute)
}

func TestHTTPHeaderRoute(t *testing.T) {
	ro := trtest.Rollout(t, gwRollout)
	d := desired(10)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{{Name: "beta-testers", Match: []v1alpha1.HeaderRoutingMatch{
		{HeaderName: "X-Canary", HeaderValue: &v1alpha1.StringMatch{Exact: "true"}},
		{HeaderName: "X-Build", HeaderValue: &v1alpha1.StringMatch{Prefix: "rc"}},
	}}}
	got := planOne(t, ro, observe(trtest.Obj(t, gwRoute)), d)
	rules, _, _ := unstructured.NestedSlice(got.Object, "spec", "rules")
	if len(rules) != 3 {
		t.Fatalf("want the header rule appended, got %d rules", len(rules))
	}
	trtest.EqualValue(t, rules[2], `
name: beta-testers
matches:
- path: {type: PathPrefix, value: /}
  method: GET
  headers:
  - {name: X-Canary, type: Exact, value: "true"}
  - {name: X-Build, type: RegularExpression, value: rc.*}
filters:
- type: RequestHeaderModifier
  requestHeaderModifier: {add: [{name: x-via, value: gw}]}
backendRefs:
- {group: "", kind: Service, name: demo-canary, port: 80}
`)
	// The header route is done with: its rule goes, the rest stays.
	back := planOne(t, ro, observe(got), desired(10))
	rules, _, _ = unstructured.NestedSlice(back.Object, "spec", "rules")
	if len(rules) != 2 {
		t.Fatalf("want the header rule removed, got %d rules", len(rules))
	}
}

func TestHeaderRulePerSourceRuleAndOptOut(t *testing.T) {
	ro := trtest.Rollout(t, `
metadata: {name: demo, namespace: apps}
spec:
  strategy:
    canary:
      stableService: demo-stable
      canaryService: demo-canary
      trafficRouting:
        managedRoutes: [{name: beta-testers}]
        plugins:
          argoproj-labs/gatewayAPI:
            httpRoutes: [{name: demo, useHeaderRoutes: true}, {name: internal}]
            disableInProgressLabel: true
`)
	route := trtest.Obj(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: demo, namespace: apps}
spec:
  rules:
  - backendRefs: [{name: demo-stable, port: 8080}, {name: demo-canary, port: 8080}]
  - matches: [{path: {type: Exact, value: /v2}, headers: [{name: tenant, value: a}]}]
    backendRefs: [{name: demo-stable, port: 8080}, {name: demo-canary, port: 8081}]
  - name: legacy
    backendRefs: [{name: demo-canary}]
`)
	internal := trtest.Obj(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: internal, namespace: apps}
spec:
  rules:
  - backendRefs: [{name: demo-stable}, {name: demo-canary}]
`)
	d := desired(50)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{{Name: "beta-testers", Match: []v1alpha1.HeaderRoutingMatch{
		{HeaderName: "X-Canary", HeaderValue: &v1alpha1.StringMatch{Regex: "yes|true"}},
	}}}
	w, err := New(Options{}).Plan(ro, observe(route, internal), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Updates) != 2 {
		t.Fatalf("want both routes updated, got %d", len(w.Updates))
	}
	trtest.EqualValue(t, w.Updates[0].Object["spec"], `
rules:
- backendRefs: [{name: demo-stable, port: 8080, weight: 50}, {name: demo-canary, port: 8080, weight: 50}]
- matches: [{path: {type: Exact, value: /v2}, headers: [{name: tenant, value: a}]}]
  backendRefs: [{name: demo-stable, port: 8080, weight: 50}, {name: demo-canary, port: 8081, weight: 50}]
- name: legacy
  backendRefs: [{name: demo-canary, weight: 50}]
- name: beta-testers
  matches: [{headers: [{name: X-Canary, type: RegularExpression, value: yes|true}]}]
  backendRefs: [{group: "", kind: Service, name: demo-canary, port: 8080}]
- name: beta-testers-1
  matches: [{path: {type: Exact, value: /v2}, headers: [{name: tenant, value: a}, {name: X-Canary, type: RegularExpression, value: yes|true}]}]
  backendRefs: [{group: "", kind: Service, name: demo-canary, port: 8081}]
`)
	if len(w.Updates[0].GetLabels()) != 0 {
		t.Fatalf("label disabled, got %v", w.Updates[0].GetLabels())
	}
	rules, _, _ := unstructured.NestedSlice(w.Updates[1].Object, "spec", "rules")
	if len(rules) != 1 {
		t.Fatalf("route without useHeaderRoutes got %d rules", len(rules))
	}
}

func TestGRPCRouteHeaderAndTCPRoute(t *testing.T) {
	ro := trtest.Rollout(t, gwRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.Plugins[PluginName] = []byte(`{"grpcRoute": "rpc", "tcpRoutes": [{"name": "raw"}]}`)
	grpc := trtest.Obj(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: rpc, namespace: apps}
spec:
  rules:
  - matches: [{method: {service: shop.Cart}}]
    backendRefs: [{name: demo-stable, port: 9090}, {name: demo-canary, port: 9090}]
`)
	tcp := trtest.Obj(t, `
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: raw, namespace: apps}
spec:
  rules:
  - backendRefs: [{name: demo-stable, port: 5000}, {name: demo-canary, port: 5000}]
`)
	d := desired(20)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{{Name: "beta-testers", Match: []v1alpha1.HeaderRoutingMatch{
		{HeaderName: "x-canary", HeaderValue: &v1alpha1.StringMatch{Exact: "1"}},
	}}}
	w, err := New(Options{}).Plan(ro, observe(grpc, tcp), d)
	if err != nil {
		t.Fatal(err)
	}
	trtest.EqualValue(t, w.Updates[0].Object["spec"], `
rules:
- matches: [{method: {service: shop.Cart}}]
  backendRefs: [{name: demo-stable, port: 9090, weight: 80}, {name: demo-canary, port: 9090, weight: 20}]
- name: beta-testers
  matches: [{method: {service: shop.Cart}, headers: [{name: x-canary, type: Exact, value: "1"}]}]
  backendRefs: [{group: "", kind: Service, name: demo-canary, port: 9090}]
`)
	trtest.EqualValue(t, w.Updates[1].Object["spec"], `
rules:
- backendRefs: [{name: demo-stable, port: 5000, weight: 80}, {name: demo-canary, port: 5000, weight: 20}]
`)
}

func TestErrors(t *testing.T) {
	ro := trtest.Rollout(t, gwRollout)
	r := New(Options{})
	w, err := r.Plan(ro, observe(), desired(10))
	trtest.ErrContains(t, err, `HTTPRoute "edge/demo" not found`)
	trtest.NoWrites(t, w)

	route := trtest.Obj(t, gwRoute)
	unstructured.RemoveNestedField(route.Object, "spec", "rules")
	w, err = r.Plan(ro, observe(route), desired(10))
	trtest.ErrContains(t, err, `HTTPRoute "edge/demo"`, `canary Service "demo-canary"`)
	trtest.NoWrites(t, w)

	// Validate finds the same problems without planning.
	trtest.ErrContains(t, r.Validate(ro, observe()), `HTTPRoute "edge/demo" not found`)
	trtest.ErrContains(t, r.Validate(ro, observe(route)), `HTTPRoute "edge/demo"`, `canary Service "demo-canary"`)
	if err := r.Validate(ro, observe(trtest.Obj(t, gwRoute))); err != nil {
		t.Fatalf("a route that can carry the split: %v", err)
	}

	ro.Spec.Strategy.Canary.TrafficRouting.Plugins[PluginName] = []byte(`{"namespace": "edge"}`)
	_, err = r.Plan(ro, observe(trtest.Obj(t, gwRoute)), desired(10))
	trtest.ErrContains(t, err, "no routes configured")
	trtest.ErrContains(t, r.Validate(ro, observe(trtest.Obj(t, gwRoute))), "no routes configured")

	ro.Spec.Strategy.Canary.TrafficRouting.Plugins[PluginName] = []byte(`{"httpRouteSelector": {"matchExpressions": [{"key": "a", "operator": "Sometimes"}]}}`)
	_, err = r.Plan(ro, nil, desired(10))
	trtest.ErrContains(t, err, "httpRouteSelector", "Sometimes")
}

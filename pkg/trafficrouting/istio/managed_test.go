package istio

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const managedRollout = `
metadata: {name: shop, namespace: prod}
spec:
  strategy:
    canary:
      stableService: shop-stable
      canaryService: shop-canary
      trafficRouting:
        managedRoutes: [{name: mirror-posts}, {name: canary-header}]
        istio:
          virtualService: {name: shop-vs, routes: [main]}
      steps:
      - setWeight: 20
      - setHeaderRoute:
          name: canary-header
          match: [{headerName: X-Canary, headerValue: {exact: "true"}}]
      - setMirrorRoute:
          name: mirror-posts
          percentage: 35
          match: [{method: {exact: POST}, path: {prefix: /api}}]
`

func headerRoute() v1alpha1.SetHeaderRoute {
	return v1alpha1.SetHeaderRoute{Name: "canary-header", Match: []v1alpha1.HeaderRoutingMatch{
		{HeaderName: "X-Canary", HeaderValue: &v1alpha1.StringMatch{Exact: "true"}},
	}}
}

func mirrorRoute() v1alpha1.SetMirrorRoute {
	pct := int32(35)
	return v1alpha1.SetMirrorRoute{Name: "mirror-posts", Percentage: &pct, Match: []v1alpha1.RouteMatch{
		{Method: &v1alpha1.StringMatch{Exact: "POST"}, Path: &v1alpha1.StringMatch{Prefix: "/api"}},
	}}
}

func httpRoutes(t *testing.T, u *unstructured.Unstructured) []any {
	t.Helper()
	routes, _, err := unstructured.NestedSlice(u.Object, "spec", "http")
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

func TestHeaderRoute(t *testing.T) {
	ro := trtest.Rollout(t, managedRollout)
	d := hostDesired(20)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{headerRoute()}
	got := planOnce(t, ro, observe(trtest.Obj(t, hostVS)), d)
	trtest.EqualValue(t, httpRoutes(t, got), `
- name: canary-header
  match:
  - headers: {X-Canary: {exact: "true"}}
  route:
  - destination: {host: shop-canary, port: {number: 8080}}
    weight: 100
- name: main
  match:
  - uri: {prefix: /}
  retries: {attempts: 3, perTryTimeout: 2s}
  timeout: 10s
  route:
  - destination: {host: shop-stable.prod.svc.cluster.local, port: {number: 8080}}
    weight: 80
    headers: {response: {set: {x-side: stable}}}
  - destination: {host: shop-canary, port: {number: 8080}}
    weight: 20
- name: admin
  route:
  - destination: {host: admin}
`)
	// No longer desired (say the rollout was promoted): the route goes and
	// the VirtualService is as it was, explicit weights aside.
	w, err := New("").Plan(ro, observe(got), hostDesired(0))
	if err != nil {
		t.Fatal(err)
	}
	trtest.Equal(t, w.Updates[0].Unstructured, hostVS)
}

func TestMirrorRoute(t *testing.T) {
	ro := trtest.Rollout(t, managedRollout)
	d := hostDesired(20)
	d.MirrorRoutes = []v1alpha1.SetMirrorRoute{mirrorRoute()}
	got := planOnce(t, ro, observe(trtest.Obj(t, hostVS)), d)
	trtest.EqualValue(t, httpRoutes(t, got)[0], `
name: mirror-posts
match:
- method: {exact: POST}
  uri: {prefix: /api}
route:
- destination: {host: shop-stable.prod.svc.cluster.local, port: {number: 8080}}
  weight: 80
- destination: {host: shop-canary, port: {number: 8080}}
  weight: 20
mirror: {host: shop-canary, port: {number: 8080}}
mirrorPercentage: {value: 35}
`)
	// The mirror route follows the weight of the split route.
	d.CanaryWeight = 40
	w, err := New("").Plan(ro, observe(got), d)
	if err != nil {
		t.Fatal(err)
	}
	trtest.EqualValue(t, httpRoutes(t, w.Updates[0].Unstructured)[0].(map[string]any)["route"], `
- destination: {host: shop-stable.prod.svc.cluster.local, port: {number: 8080}}
  weight: 60
- destination: {host: shop-canary, port: {number: 8080}}
  weight: 40
`)
}

func TestManagedRoutesFollowManagedRoutesOrder(t *testing.T) {
	ro := trtest.Rollout(t, managedRollout)
	d := hostDesired(20)
	// Listed in the opposite order; managedRoutes decides.
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{headerRoute()}
	d.MirrorRoutes = []v1alpha1.SetMirrorRoute{mirrorRoute()}
	// A user moved things around: the header route landed at the bottom.
	vs := trtest.Obj(t, hostVS)
	routes := httpRoutes(t, vs)
	routes = append(routes, map[string]any{"name": "canary-header", "route": []any{}})
	_ = unstructured.SetNestedSlice(vs.Object, routes, "spec", "http")
	got := planOnce(t, ro, observe(vs), d)
	var names []string
	for _, rt := range httpRoutes(t, got) {
		names = append(names, rt.(map[string]any)["name"].(string))
	}
	if want := "mirror-posts canary-header main admin"; strings.Join(names, " ") != want {
		t.Fatalf("routes %q, want %q", strings.Join(names, " "), want)
	}
	// Removing one route keeps the other.
	d.MirrorRoutes = nil
	w, err := New("").Plan(ro, observe(got), d)
	if err != nil {
		t.Fatal(err)
	}
	names = nil
	for _, rt := range httpRoutes(t, w.Updates[0].Unstructured) {
		names = append(names, rt.(map[string]any)["name"].(string))
	}
	if want := "canary-header main admin"; strings.Join(names, " ") != want {
		t.Fatalf("routes %q, want %q", strings.Join(names, " "), want)
	}
}

func TestHeaderRouteWithSubsets(t *testing.T) {
	ro := trtest.Rollout(t, subsetRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.ManagedRoutes = []v1alpha1.ManagedRoute{{Name: "canary-header"}}
	d := subsetDesired(10)
	h := headerRoute()
	h.Match = append(h.Match,
		v1alpha1.HeaderRoutingMatch{HeaderName: "user-agent", HeaderValue: &v1alpha1.StringMatch{Regex: ".*Firefox.*"}},
		v1alpha1.HeaderRoutingMatch{HeaderName: "x-team", HeaderValue: &v1alpha1.StringMatch{Prefix: "qa-"}})
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{h}
	w, err := New("").Plan(ro, observe(trtest.Obj(t, subsetVS), trtest.Obj(t, subsetDR)), d)
	if err != nil {
		t.Fatal(err)
	}
	trtest.EqualValue(t, httpRoutes(t, w.Updates[1].Unstructured)[0], `
name: canary-header
match:
- headers: {X-Canary: {exact: "true"}}
- headers: {user-agent: {regex: .*Firefox.*}}
- headers: {x-team: {prefix: qa-}}
route:
- destination: {host: reviews.bookinfo.svc.cluster.local, subset: canary}
  weight: 100
`)
}

func TestHeaderRouteWithoutMatchIsRemoval(t *testing.T) {
	ro := trtest.Rollout(t, managedRollout)
	d := hostDesired(0)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{{Name: "canary-header"}}
	w, err := New("").Plan(ro, observe(trtest.Obj(t, hostVS)), d)
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, w)
}

func TestManagedRouteNeedsHTTP(t *testing.T) {
	ro := trtest.Rollout(t, managedRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualService.Routes = nil
	ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualService.TCPRoutes = []v1alpha1.TCPRoute{{Port: 80}}
	vs := trtest.Obj(t, `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: shop-vs, namespace: prod}
spec:
  tcp:
  - match: [{port: 80}]
    route:
    - {destination: {host: shop-stable}, weight: 100}
    - {destination: {host: shop-canary}}
`)
	d := hostDesired(10)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{headerRoute()}
	w, err := New("").Plan(ro, map[trafficrouting.Ref]*unstructured.Unstructured{vsRef("prod", "shop-vs"): vs}, d)
	trtest.ErrContains(t, err, `"prod/shop-vs"`, "no HTTP routes", `"canary-header"`)
	trtest.NoWrites(t, w)
}

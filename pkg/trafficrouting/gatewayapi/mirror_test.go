package gatewayapi

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const mirrorRollout = `
metadata: {name: demo, namespace: apps}
spec:
  strategy:
    canary:
      stableService: demo-stable
      canaryService: demo-canary
      trafficRouting:
        managedRoutes: [{name: shadow}]
        plugins:
          argoproj-labs/gatewayAPI:
            httpRoutes: [{name: demo}]
            namespace: edge
      steps:
      - setWeight: 20
      - setMirrorRoute:
          name: shadow
          percentage: 35
          match:
          - method: {exact: GET}
            path: {prefix: /api}
            headers: {X-Region: {exact: eu}, X-Build: {prefix: rc}}
      - pause: {}
      - setMirrorRoute: {name: shadow}
`

func mirrorStep(t *testing.T, ro *v1alpha1.Rollout) v1alpha1.SetMirrorRoute {
	t.Helper()
	return *ro.Spec.Strategy.Canary.Steps[1].SetMirrorRoute
}

// A mirror route becomes a rule named after it, appended to the HTTPRoute
// even though the route takes no header routes; removing it (no match, or
// abort) gives the route back exactly.
func TestHTTPMirrorRoute(t *testing.T) {
	ro := trtest.Rollout(t, mirrorRollout)
	d := desired(20)
	d.MirrorRoutes = []v1alpha1.SetMirrorRoute{mirrorStep(t, ro)}
	got := planOne(t, ro, observe(trtest.Obj(t, gwRoute)), d)
	rules, _, _ := unstructured.NestedSlice(got.Object, "spec", "rules")
	if len(rules) != 3 {
		t.Fatalf("want the mirror rule appended, got %d rules", len(rules))
	}
	trtest.EqualValue(t, rules[2], `
name: shadow
matches:
- method: GET
  path: {type: PathPrefix, value: /api}
  headers:
  - {name: X-Build, type: RegularExpression, value: rc.*}
  - {name: X-Region, type: Exact, value: eu}
filters:
- type: RequestMirror
  requestMirror:
    backendRef: {group: "", kind: Service, name: demo-canary, port: 80}
    percent: 35
backendRefs:
- {name: demo-stable, port: 80, weight: 80}
- {name: demo-canary, port: 80, weight: 20}
`)
	// The weights move in the mirror rule too.
	d.CanaryWeight = 50
	moved := planOne(t, ro, observe(got), d)
	rules, _, _ = unstructured.NestedSlice(moved.Object, "spec", "rules")
	trtest.EqualValue(t, rules[2].(map[string]any)["backendRefs"], `
- {name: demo-stable, port: 80, weight: 50}
- {name: demo-canary, port: 80, weight: 50}
`)
	// Abort: weight 0 and no route in force, in one write.
	back := planOne(t, ro, observe(moved), desired(0))
	trtest.Equal(t, back, gwRoute)
}

func TestMirrorRouteErrors(t *testing.T) {
	ro := trtest.Rollout(t, mirrorRollout)
	d := desired(20)
	m := mirrorStep(t, ro)
	m.Match[0].Method = &v1alpha1.StringMatch{Prefix: "G"}
	d.MirrorRoutes = []v1alpha1.SetMirrorRoute{m}
	w, err := New(Options{}).Plan(ro, observe(trtest.Obj(t, gwRoute)), d)
	trtest.ErrContains(t, err, `mirror route "shadow"`, "invalid mirror match type for method")
	trtest.NoWrites(t, w)

	d.MirrorRoutes = []v1alpha1.SetMirrorRoute{mirrorStep(t, ro)}
	noSource := trtest.Obj(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: demo, namespace: edge}
spec:
  rules:
  - backendRefs: [{name: demo-stable, port: 80}]
  - backendRefs: [{name: demo-canary, port: 80}, {name: other, port: 80}]
`)
	_, err = New(Options{}).Plan(ro, map[trafficrouting.Ref]*unstructured.Unstructured{refOf(noSource): noSource}, d)
	trtest.ErrContains(t, err, `to copy mirror route "shadow" from`)
}

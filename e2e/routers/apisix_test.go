package routers

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const apisixRoute = `
apiVersion: apisix.apache.org/v2
kind: ApisixRoute
metadata:
  name: demo-route
spec:
  http:
  - name: demo
    match: {hosts: [demo.local], paths: [/*]}
    backends:
    - {serviceName: demo-stable, servicePort: 80, weight: 100}
    - {serviceName: demo-canary, servicePort: 80, weight: 0}
`

var apisixRollout = rolloutOf(`        managedRoutes: [{name: demo-header}]
        apisix: {route: {name: demo-route, rules: [demo]}}`, `      - setWeight: 20
      - setHeaderRoute:
          name: demo-header
          match: [{headerName: x-canary, headerValue: {exact: "yes"}}]
      - pause: {}
      - setWeight: 60
      - pause: {}`)

func apisixWeights(u *unstructured.Unstructured) map[string]int64 {
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	if len(rules) == 0 {
		return nil
	}
	backends, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backends")
	return backendWeights(backends, "serviceName")
}

// headerRouteIsCanaryOnly checks the header route's ApisixRoute: the
// canary backend alone, the header expression, one priority up.
func headerRouteIsCanaryOnly(u *unstructured.Unstructured) bool {
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	if len(rules) != 1 {
		return false
	}
	rule := rules[0].(map[string]any)
	w := apisixWeights(u)
	exprs, _, _ := unstructured.NestedSlice(rule, "match", "exprs")
	p, _, _ := unstructured.NestedInt64(rule, "priority")
	return len(w) == 1 && w["demo-canary"] == 100 && len(exprs) == 1 && p == 1
}

func startAPISIX(f *framework.T) *framework.R {
	f.Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(apisixRoutes, apisixRoute)
	r := f.Rollout(apisixRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(2)
	f.WaitForObject(apisixRoutes, "demo-route", "at 20%", weightsAre(apisixWeights, 80, 20))
	f.WaitForObject(apisixRoutes, "demo-header", "the header route", headerRouteIsCanaryOnly)
	return r
}

// An APISIX canary sets the route's backend weights step by step and adds
// its header route as an ApisixRoute of its own; an abort gives the stable
// backend everything and removes the header route.
func TestAPISIXCanaryHeaderRouteAndAbort(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startAPISIX(f)
	r.Promote()
	r.WaitForPausedAtStep(4)
	f.WaitForObject(apisixRoutes, "demo-route", "at 60%", weightsAre(apisixWeights, 40, 60))
	r.Abort()
	f.WaitForObject(apisixRoutes, "demo-route", "back on stable", weightsAre(apisixWeights, 100, 0))
	waitGone(f, apisixRoutes, "demo-header")
	r.WaitForPhase(v1alpha1.RolloutPhaseDegraded)
	r.WaitForReplicas(map[string]int32{"rev1": 4})
}

func TestAPISIXPromotionRemovesTheHeaderRoute(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startAPISIX(f)
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(apisixRoutes, "demo-route", "all on the new stable", weightsAre(apisixWeights, 100, 0))
	waitGone(f, apisixRoutes, "demo-header")
}

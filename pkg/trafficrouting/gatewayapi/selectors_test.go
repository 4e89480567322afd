package gatewayapi

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const selectorRollout = `
metadata: {name: demo, namespace: edge}
spec:
  strategy:
    canary:
      stableService: demo-stable
      canaryService: demo-canary
      trafficRouting:
        plugins:
          argoproj-labs/gatewayAPI:
            httpRoute: demo
            httpRouteSelector: {matchLabels: {app: demo}}
            tcpRouteSelector: {matchExpressions: [{key: tier, operator: In, values: [db]}]}
`

func route(t *testing.T, kind, name, labels string) *unstructured.Unstructured {
	return trtest.Obj(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: `+kind+`
metadata: {name: `+name+`, namespace: edge, labels: `+labels+`}
spec:
  rules:
  - backendRefs:
    - {name: demo-stable, port: 80, weight: 100}
    - {name: demo-canary, port: 80, weight: 0}
`)
}

func TestSelectorReferences(t *testing.T) {
	ro := trtest.Rollout(t, selectorRollout)
	r := New(Options{}).(*Router)
	refs := r.References(ro)
	if len(refs) != 3 || refs[0].Name != "demo" ||
		refs[1] != (trafficrouting.Ref{Resource: r.gvr(httpKind), Namespace: "edge", Selector: "app=demo"}) ||
		refs[2] != (trafficrouting.Ref{Resource: r.gvr(tcpKind), Namespace: "edge", Selector: "tier in (db)"}) {
		t.Fatalf("References = %+v", refs)
	}
}

// Selected routes get the weights like named ones; a named route that the
// selector also matches is written once; routes the selector does not
// match, or of another namespace, are left alone.
func TestSelectedRoutesCarryTheSplit(t *testing.T) {
	ro := trtest.Rollout(t, selectorRollout)
	r := New(Options{})
	named := route(t, "HTTPRoute", "demo", "{app: demo}")
	second := route(t, "HTTPRoute", "demo-admin", "{app: demo}")
	other := route(t, "HTTPRoute", "other", "{app: other}")
	tcp := route(t, "TCPRoute", "demo-db", "{tier: db}")
	elsewhere := route(t, "HTTPRoute", "far", "{app: demo}")
	elsewhere.SetNamespace("apps")
	observed := observe(named, second, other, tcp, elsewhere)
	if err := r.Validate(ro, observed); err != nil {
		t.Fatal(err)
	}
	w, err := r.Plan(ro, observed, desired(40))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range w.Updates {
		names = append(names, c.Ref.Resource.Resource+"/"+c.Ref.Name)
		backends, _, _ := unstructured.NestedSlice(c.Object, "spec", "rules")
		trtest.EqualValue(t, backends[0].(map[string]any)["backendRefs"], `
- {name: demo-stable, port: 80, weight: 60}
- {name: demo-canary, port: 80, weight: 40}
`)
	}
	if got := strings.Join(names, " "); got != "httproutes/demo httproutes/demo-admin tcproutes/demo-db" {
		t.Fatalf("updated %s", got)
	}
	again, err := r.Plan(ro, trtest.Apply(observed, w), desired(40))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)
	// Abort: every selected route back to the stable in one pass.
	w, err = r.Plan(ro, trtest.Apply(observed, w), desired(0))
	if err != nil || len(w.Updates) != 3 {
		t.Fatalf("abort: %+v, %v", w, err)
	}
}

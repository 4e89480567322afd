package alb

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

func TestHeaderRouteAddsActionConditionAndPathThenRemovesThem(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	r := New("")
	beta := *ro.Spec.Strategy.Canary.Steps[1].SetHeaderRoute
	beta.Match = append(beta.Match, v1alpha1.HeaderRoutingMatch{HeaderName: "X-Beta", HeaderValue: &v1alpha1.StringMatch{Exact: "also"}},
		v1alpha1.HeaderRoutingMatch{HeaderName: "X-Team", HeaderValue: &v1alpha1.StringMatch{Exact: "a&b"}})
	qa := *ro.Spec.Strategy.Canary.Steps[2].SetHeaderRoute
	observed := observedIngress(t, albIngress)
	// Weight first, then qa, then beta: the paths still follow managedRoutes.
	for _, routes := range [][]v1alpha1.SetHeaderRoute{nil, {qa}, {qa, beta}} {
		d := desired(10)
		d.HeaderRoutes = routes
		w, err := r.Plan(ro, observed, d)
		if err != nil {
			t.Fatal(err)
		}
		observed = trtest.Apply(observed, w)
	}
	got := observed[ingressRef]
	expectRouteAnnotations(t, got.GetAnnotations())
	trtest.EqualValue(t, got.Object["spec"], `
ingressClassName: alb
rules:
- host: web.example.com
  http:
    paths:
    - {path: /*, pathType: ImplementationSpecific, backend: {service: {name: beta, port: {name: use-annotation}}}}
    - {path: /*, pathType: ImplementationSpecific, backend: {service: {name: qa, port: {name: use-annotation}}}}
    - {path: /, pathType: Prefix, backend: {service: {name: web-stable, port: {name: use-annotation}}}}
    - {path: /static, pathType: Prefix, backend: {service: {name: cdn, port: {number: 80}}}}
`)
	// Promotion or abort: no route in force; all of it goes, the list keeps the weight action.
	w, err := r.Plan(ro, observed, desired(0))
	if err != nil {
		t.Fatal(err)
	}
	observed = trtest.Apply(observed, w)
	got = observed[ingressRef]
	if trtest.Canonical(t, got.Object["spec"]) != trtest.Canonical(t, trtest.Obj(t, albIngress).Object["spec"]) {
		t.Fatalf("the route paths were not removed:\n%s", trtest.Canonical(t, got.Object["spec"]))
	}
	a := got.GetAnnotations()
	if _, ok := a["alb.ingress.kubernetes.io/conditions.beta"]; ok || len(a) != 3 {
		t.Fatalf("route annotations left: %v", a)
	}
	if v, want := a[ManagedAnnotations], `{"web":["alb.ingress.kubernetes.io/actions.web-stable"]}`; v != want {
		t.Fatalf("managed = %s, want %s", v, want)
	}
}

func TestHeaderRouteWithPrefixIsRefused(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	d := desired(10)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{{Name: "beta", Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: "X-Beta", HeaderValue: &v1alpha1.StringMatch{Prefix: "y"}}}}}
	_, err := New("").Plan(ro, observedIngress(t, albIngress), d)
	trtest.ErrContains(t, err, `header route "beta"`, "exact value only")
}

func TestOtherRolloutsBookkeepingIsKept(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	ing := trtest.Obj(t, albIngress)
	ing.SetAnnotations(map[string]string{ManagedAnnotations: `{"api":["alb.ingress.kubernetes.io/actions.api-stable"]}`})
	got := planOne(t, ro, map[trafficrouting.Ref]*unstructured.Unstructured{ingressRef: ing}, desired(10))
	want := `{"api":["alb.ingress.kubernetes.io/actions.api-stable"],"web":["alb.ingress.kubernetes.io/actions.web-stable"]}`
	if v := got.GetAnnotations()[ManagedAnnotations]; v != want {
		t.Fatalf("managed = %s, want %s", v, want)
	}
	ing.SetAnnotations(map[string]string{ManagedAnnotations: `not json`})
	_, err := New("").Plan(ro, map[trafficrouting.Ref]*unstructured.Unstructured{ingressRef: ing}, desired(10))
	trtest.ErrContains(t, err, ManagedAnnotations, "not valid JSON")
}

func TestPingPongSplitsBetweenPingAndPongByStatus(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	c := ro.Spec.Strategy.Canary
	c.StableService, c.CanaryService = "", ""
	c.PingPong = &v1alpha1.PingPongSpec{PingService: "web-ping", PongService: "web-pong"}
	c.TrafficRouting.ALB.RootService = "web-stable"
	for _, tc := range []struct {
		stable v1alpha1.PingPongType
		want   string
	}{
		{"", `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-ping","ServicePort":"80","Weight":10},{"ServiceName":"web-pong","ServicePort":"80","Weight":90}]}}`},
		{v1alpha1.PPPing, `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-pong","ServicePort":"80","Weight":10},{"ServiceName":"web-ping","ServicePort":"80","Weight":90}]}}`},
		{v1alpha1.PPPong, `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-ping","ServicePort":"80","Weight":10},{"ServiceName":"web-pong","ServicePort":"80","Weight":90}]}}`},
	} {
		ro.Status.Canary.StablePingPong = tc.stable
		got := planOne(t, ro, observedIngress(t, albIngress), trafficrouting.Desired{CanaryWeight: 10})
		if v := got.GetAnnotations()["alb.ingress.kubernetes.io/actions.web-stable"]; v != tc.want {
			t.Fatalf("stablePingPong %q:\n got %s\nwant %s", tc.stable, v, tc.want)
		}
	}
}

func TestExtensionsIngressGetsLegacyBackends(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	r := New("extensions/v1beta1")
	ref := trafficrouting.Ref{Resource: r.Resources()[0], Namespace: "shop", Name: "web"}
	ing := trtest.Obj(t, `
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - {path: /, backend: {serviceName: web-stable, servicePort: use-annotation}}
`)
	d := desired(10)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{*ro.Spec.Strategy.Canary.Steps[1].SetHeaderRoute}
	w, err := r.Plan(ro, map[trafficrouting.Ref]*unstructured.Unstructured{ref: ing}, d)
	if err != nil || len(w.Updates) != 1 {
		t.Fatalf("plan: %v %+v", err, w)
	}
	trtest.EqualValue(t, w.Updates[0].Object["spec"], `
rules:
- http:
    paths:
    - {path: /*, pathType: ImplementationSpecific, backend: {serviceName: beta, servicePort: use-annotation}}
    - {path: /, backend: {serviceName: web-stable, servicePort: use-annotation}}
`)
}

func expectRouteAnnotations(t *testing.T, a map[string]string) {
	t.Helper()
	canaryOnly := `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80","Weight":100}]}}`
	for _, k := range []string{"alb.ingress.kubernetes.io/actions.beta", "alb.ingress.kubernetes.io/actions.qa"} {
		if a[k] != canaryOnly {
			t.Fatalf("%s = %s, want %s", k, a[k], canaryOnly)
		}
	}
	// Same header: one condition with both values; & escaped as encoding/json does.
	wantBeta := `[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X-Beta","values":["yes","also"]}},{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X-Team","values":["a\u0026b"]}}]`
	if v := a["alb.ingress.kubernetes.io/conditions.beta"]; v != wantBeta {
		t.Fatalf("beta conditions\n got %s\nwant %s", v, wantBeta)
	}
	wantManaged := `{"web":["alb.ingress.kubernetes.io/actions.web-stable","alb.ingress.kubernetes.io/actions.qa","alb.ingress.kubernetes.io/conditions.qa","alb.ingress.kubernetes.io/actions.beta","alb.ingress.kubernetes.io/conditions.beta"]}`
	if v := a[ManagedAnnotations]; v != wantManaged {
		t.Fatalf("managed\n got %s\nwant %s", v, wantManaged)
	}
}

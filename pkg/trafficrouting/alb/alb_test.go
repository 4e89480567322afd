package alb

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const albRollout = `
metadata: {name: web, namespace: shop, uid: 1f5e-web}
spec:
  strategy:
    canary:
      stableService: web-stable
      canaryService: web-canary
      trafficRouting:
        managedRoutes: [{name: beta}, {name: qa}]
        alb:
          ingress: web
          servicePort: 80
      steps:
      - setWeight: 10
      - setHeaderRoute: {name: beta, match: [{headerName: X-Beta, headerValue: {exact: "yes"}}]}
      - setHeaderRoute: {name: qa, match: [{headerName: X-QA, headerValue: {exact: "1"}}]}
`

const albIngress = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  resourceVersion: "7"
  annotations:
    alb.ingress.kubernetes.io/scheme: internet-facing
spec:
  ingressClassName: alb
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web-stable, port: {name: use-annotation}}}
      - path: /static
        pathType: Prefix
        backend: {service: {name: cdn, port: {number: 80}}}
`

var ingressRef = trafficrouting.Ref{Resource: New("").Resources()[0], Namespace: "shop", Name: "web"}

func observedIngress(t *testing.T, doc string) map[trafficrouting.Ref]*unstructured.Unstructured {
	return map[trafficrouting.Ref]*unstructured.Unstructured{ingressRef: trtest.Obj(t, doc)}
}

func desired(weight int32) trafficrouting.Desired {
	return trafficrouting.Desired{StableService: "web-stable", CanaryService: "web-canary", CanaryWeight: weight}
}

// planOne plans and returns the single updated Ingress.
func planOne(t *testing.T, ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) *unstructured.Unstructured {
	t.Helper()
	w, err := New("").Plan(ro, observed, d)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if len(w.Updates) != 1 || len(w.Creates)+len(w.Deletes) != 0 || w.Updates[0].Ref != ingressRef {
		t.Fatalf("want one update of the Ingress, got %+v", w)
	}
	return w.Updates[0].Unstructured
}

func TestWeightIsWrittenAsArgoRolloutsWritesIt(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	got := planOne(t, ro, observedIngress(t, albIngress), desired(10))
	a := got.GetAnnotations()
	// The exact bytes matter: Argo CD compares these strings.
	want := `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80","Weight":10},{"ServiceName":"web-stable","ServicePort":"80","Weight":90}]}}`
	if v := a["alb.ingress.kubernetes.io/actions.web-stable"]; v != want {
		t.Fatalf("forward action\n got %s\nwant %s", v, want)
	}
	if v, want := a[ManagedAnnotations], `{"web":["alb.ingress.kubernetes.io/actions.web-stable"]}`; v != want {
		t.Fatalf("managed annotations = %s, want %s", v, want)
	}
	if a["alb.ingress.kubernetes.io/scheme"] != "internet-facing" || len(a) != 3 {
		t.Fatalf("the user's annotations must stay and nothing else be added: %v", a)
	}
	// Without a header route the rules are left as they are.
	want2 := trtest.Obj(t, albIngress)
	if trtest.Canonical(t, got.Object["spec"]) != trtest.Canonical(t, want2.Object["spec"]) {
		t.Fatalf("spec changed:\n%s", trtest.Canonical(t, got.Object["spec"]))
	}
	if got.GetResourceVersion() != "7" {
		t.Fatalf("resourceVersion = %q, want the observed one kept", got.GetResourceVersion())
	}
}

func TestSecondPlanWritesNothing(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	r := New("")
	observed := observedIngress(t, albIngress)
	d := desired(25)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{*ro.Spec.Strategy.Canary.Steps[1].SetHeaderRoute}
	for i := 0; i < 2; i++ {
		w, err := r.Plan(ro, observed, d)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			trtest.NoWrites(t, w)
		}
		// Round-trip through JSON as the API server would.
		observed = trtest.Apply(observed, w)
		observed[ingressRef] = trtest.Obj(t, trtest.Canonical(t, observed[ingressRef].Object))
	}
}

func TestAbortPutsAllTrafficOnStable(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	observed := trtest.Apply(observedIngress(t, albIngress), trafficrouting.Writes{Updates: []trafficrouting.Change{
		{Ref: ingressRef, Unstructured: planOne(t, ro, observedIngress(t, albIngress), desired(50))}}})
	// On abort the plan asks for weight 0 and no header route.
	got := planOne(t, ro, observed, desired(0))
	want := `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80","Weight":0},{"ServiceName":"web-stable","ServicePort":"80","Weight":100}]}}`
	if v := got.GetAnnotations()["alb.ingress.kubernetes.io/actions.web-stable"]; v != want {
		t.Fatalf("after abort\n got %s\nwant %s", v, want)
	}
}

func TestExperimentDestinationsStickinessAndRootService(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	cfg := ro.Spec.Strategy.Canary.TrafficRouting.ALB
	cfg.RootService = "web-root"
	cfg.ServicePort = 8080
	cfg.AnnotationPrefix = "custom.aws.com"
	cfg.StickinessConfig = &v1alpha1.StickinessConfig{Enabled: true, DurationSeconds: 3600}
	observed := observedIngress(t, albIngress)
	setBackend(t, observed[ingressRef], "web-root")
	d := desired(20)
	d.Additional = []v1alpha1.WeightDestination{{ServiceName: "exp-a", Weight: 5}, {ServiceName: "exp-b", Weight: 10}}
	got := planOne(t, ro, observed, d)
	want := `{"Type":"forward","ForwardConfig":{"TargetGroups":[` +
		`{"ServiceName":"web-canary","ServicePort":"8080","Weight":20},` +
		`{"ServiceName":"exp-a","ServicePort":"8080","Weight":5},` +
		`{"ServiceName":"exp-b","ServicePort":"8080","Weight":10},` +
		`{"ServiceName":"web-stable","ServicePort":"8080","Weight":65}],` +
		`"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":3600}}}`
	if v := got.GetAnnotations()["custom.aws.com/actions.web-root"]; v != want {
		t.Fatalf("forward action\n got %s\nwant %s", v, want)
	}
	if v, want := got.GetAnnotations()[ManagedAnnotations], `{"web":["custom.aws.com/actions.web-root"]}`; v != want {
		t.Fatalf("managed = %s, want %s", v, want)
	}
}

// setBackend points the first path of the Ingress at service.
func setBackend(t *testing.T, ing *unstructured.Unstructured, service string) {
	t.Helper()
	rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
	paths := rules[0].(map[string]any)["http"].(map[string]any)["paths"].([]any)
	_ = unstructured.SetNestedField(paths[0].(map[string]any), service, "backend", "service", "name")
	_ = unstructured.SetNestedSlice(ing.Object, rules, "spec", "rules")
}

func TestStickinessOutOfRangeIsInvalid(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.ALB.StickinessConfig = &v1alpha1.StickinessConfig{Enabled: true, DurationSeconds: 604801}
	trtest.ErrContains(t, New("").Validate(ro, observedIngress(t, albIngress)), "between 1 and 604800 seconds")
}

func TestMissingIngressOrServiceIsAnError(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	r := New("")
	trtest.ErrContains(t, r.Validate(ro, nil), `Ingress "shop/web" not found`)
	_, err := r.Plan(ro, nil, desired(10))
	trtest.ErrContains(t, err, `Ingress "shop/web" not found`)
	ro.Spec.Strategy.Canary.StableService = "other"
	trtest.ErrContains(t, r.Validate(ro, observedIngress(t, albIngress)), "does not have service `other` in rules")
	if err := New("").Validate(trtest.Rollout(t, albRollout), observedIngress(t, albIngress)); err != nil {
		t.Fatalf("valid Ingress refused: %v", err)
	}
}

func TestSeveralIngressesEachGetTheAction(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.ALB.Ingress = ""
	ro.Spec.Strategy.Canary.TrafficRouting.ALB.Ingresses = []string{"web", "web-internal"}
	second := trtest.Obj(t, albIngress)
	second.SetName("web-internal")
	observed := observedIngress(t, albIngress)
	secondRef := ingressRef
	secondRef.Name = "web-internal"
	observed[secondRef] = second
	w, err := New("").Plan(ro, observed, desired(30))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Updates) != 2 || w.Updates[0].Ref != ingressRef || w.Updates[1].Ref != secondRef {
		t.Fatalf("want both Ingresses updated in order, got %+v", w.Updates)
	}
	if refs := New("").References(ro); len(refs) != 2 || refs[1] != secondRef {
		t.Fatalf("references = %v", refs)
	}
}

package nginx

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const nginxRollout = `
metadata: {name: web, namespace: shop, uid: 1f5e-web}
spec:
  strategy:
    canary:
      stableService: web-stable
      canaryService: web-canary
      trafficRouting:
        nginx:
          stableIngress: web
          additionalIngressAnnotations: {canary-by-cookie: beta}
          canaryIngressAnnotations: {example.com/team: storefront}
`

const stableIngress = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations:
    kubernetes.io/ingress.class: nginx
    nginx.ingress.kubernetes.io/rewrite-target: /
spec:
  ingressClassName: nginx
  tls: [{hosts: [web.example.com], secretName: web-tls}]
  defaultBackend: {service: {name: fallback, port: {number: 80}}}
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web-stable, port: {name: http}}}
      - path: /static
        pathType: Prefix
        backend: {service: {name: cdn, port: {number: 80}}}
  - host: admin.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: admin, port: {number: 80}}}
`

const canaryTen = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web-web-canary
  namespace: shop
  annotations:
    kubernetes.io/ingress.class: nginx
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: "10"
    nginx.ingress.kubernetes.io/canary-by-cookie: beta
    example.com/team: storefront
  ownerReferences:
  - apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    name: web
    uid: 1f5e-web
    controller: true
    blockOwnerDeletion: true
spec:
  ingressClassName: nginx
  tls: [{hosts: [web.example.com], secretName: web-tls}]
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web-canary, port: {name: http}}}
      - path: /static
        pathType: Prefix
        backend: {service: {name: cdn, port: {number: 80}}}
`

func refOf(u *unstructured.Unstructured) trafficrouting.Ref {
	return trafficrouting.Ref{Resource: New("").(*Router).Ingresses(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

func observe(objs ...*unstructured.Unstructured) map[trafficrouting.Ref]*unstructured.Unstructured {
	out := map[trafficrouting.Ref]*unstructured.Unstructured{}
	for _, o := range objs {
		out[refOf(o)] = o
	}
	return out
}

func desired(w int32) trafficrouting.Desired {
	return trafficrouting.Desired{StableService: "web-stable", CanaryService: "web-canary", CanaryWeight: w, MaxWeight: 100}
}

func TestCreatesCanaryIngress(t *testing.T) {
	ro := trtest.Rollout(t, nginxRollout)
	r := New("")
	observed := observe(trtest.Obj(t, stableIngress))
	w, err := r.Plan(ro, observed, desired(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Creates) != 1 || len(w.Updates)+len(w.Deletes) != 0 {
		t.Fatalf("want one create, got %+v", w)
	}
	trtest.Equal(t, w.Creates[0].Unstructured, canaryTen)
	observed = trtest.Apply(observed, w)
	again, err := r.Plan(ro, observed, desired(10))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)
	tw, err := weightsOf(r, ro, observed, desired(10))
	if err != nil || tw.Canary.Weight != 10 || tw.Stable.Weight != 90 {
		t.Fatalf("Weights = %+v, %v", tw, err)
	}
}

func TestUpdatesWeightAndKeepsForeignAnnotations(t *testing.T) {
	ro := trtest.Rollout(t, nginxRollout)
	canary := trtest.Obj(t, canaryTen)
	canary.SetResourceVersion("42")
	canary.SetLabels(map[string]string{"stray": "label"})
	ann := canary.GetAnnotations()
	ann["field.cattle.io/publicEndpoints"] = "[]"
	canary.SetAnnotations(ann)
	w, err := New("").Plan(ro, observe(trtest.Obj(t, stableIngress), canary), desired(50))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Updates) != 1 {
		t.Fatalf("want one update, got %+v", w)
	}
	want := strings.Replace(canaryTen, `canary-weight: "10"`, `canary-weight: "50"
    field.cattle.io/publicEndpoints: "[]"`, 1)
	want = strings.Replace(want, "namespace: shop\n", "namespace: shop\n  resourceVersion: \"42\"\n", 1)
	trtest.Equal(t, w.Updates[0].Unstructured, want)
}

func TestWeightTotalAndPrefix(t *testing.T) {
	ro := trtest.Rollout(t, nginxRollout)
	total := int32(1000)
	ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = &total
	ro.Spec.Strategy.Canary.TrafficRouting.Nginx.AnnotationPrefix = "custom.nginx.org"
	d := desired(250)
	d.MaxWeight = 1000
	w, err := New("").Plan(ro, observe(trtest.Obj(t, stableIngress)), d)
	if err != nil {
		t.Fatal(err)
	}
	trtest.EqualValue(t, w.Creates[0].GetAnnotations(), `
kubernetes.io/ingress.class: nginx
custom.nginx.org/canary: "true"
custom.nginx.org/canary-weight: "250"
custom.nginx.org/canary-weight-total: "1000"
custom.nginx.org/canary-by-cookie: beta
example.com/team: storefront
`)
	tw, _ := weightsOf(New(""), ro, trtest.Apply(observe(trtest.Obj(t, stableIngress)), w), d)
	if tw.Canary.Weight != 250 || tw.Stable.Weight != 750 {
		t.Fatalf("Weights = %+v", tw)
	}
}

func TestHeaderRoute(t *testing.T) {
	ro := trtest.Rollout(t, nginxRollout)
	r := New("")
	observed := observe(trtest.Obj(t, stableIngress), trtest.Obj(t, canaryTen))
	d := desired(10)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{{Name: "canary-header", Match: []v1alpha1.HeaderRoutingMatch{
		{HeaderName: "X-Canary", HeaderValue: &v1alpha1.StringMatch{Exact: "true"}},
	}}}
	w, err := r.Plan(ro, observed, d)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(canaryTen, `canary-weight: "10"`, `canary-weight: "10"
    nginx.ingress.kubernetes.io/canary-by-header: X-Canary
    nginx.ingress.kubernetes.io/canary-by-header-value: "true"`, 1)
	trtest.Equal(t, w.Updates[0].Unstructured, want)
	observed = trtest.Apply(observed, w)
	again, _ := r.Plan(ro, observed, d)
	trtest.NoWrites(t, again)

	// A prefix becomes an anchored, escaped pattern.
	d.HeaderRoutes[0].Match[0].HeaderValue = &v1alpha1.StringMatch{Prefix: "v1.2"}
	w, _ = r.Plan(ro, observed, d)
	ann := w.Updates[0].GetAnnotations()
	if ann["nginx.ingress.kubernetes.io/canary-by-header-pattern"] != `^v1\.2.*` || ann["nginx.ingress.kubernetes.io/canary-by-header-value"] != "" {
		t.Fatalf("prefix match annotations: %v", ann)
	}

	// Removed: the canary Ingress is back to weight only.
	w, _ = r.Plan(ro, observed, desired(10))
	trtest.Equal(t, w.Updates[0].Unstructured, canaryTen)

	d.HeaderRoutes[0].Match = append(d.HeaderRoutes[0].Match, v1alpha1.HeaderRoutingMatch{HeaderName: "X-Other", HeaderValue: &v1alpha1.StringMatch{Exact: "1"}})
	w, err = r.Plan(ro, observed, d)
	trtest.ErrContains(t, err, "single header", `"canary-header"`)
	trtest.NoWrites(t, w)
}

func TestPromotedKeepsTheCanaryAtZero(t *testing.T) {
	// As Argo Rollouts does (and its ClusterRole grants no delete on
	// Ingresses): the canary Ingress stays, with no traffic.
	ro := trtest.Rollout(t, nginxRollout)
	r := New("")
	observed := observe(trtest.Obj(t, stableIngress), trtest.Obj(t, canaryTen))
	w, err := r.Plan(ro, observed, desired(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Deletes)+len(w.Creates) != 0 || len(w.Updates) != 1 || w.Updates[0].GetAnnotations()["nginx.ingress.kubernetes.io/canary-weight"] != "0" {
		t.Fatalf("want the canary kept at weight 0, got %+v", w)
	}
	observed = trtest.Apply(observed, w)
	again, _ := r.Plan(ro, observed, desired(0))
	trtest.NoWrites(t, again)
	tw, err := weightsOf(r, ro, observed, desired(0))
	if err != nil || tw.Canary.Weight != 0 || tw.Stable.Weight != 100 {
		t.Fatalf("Weights = %+v, %v", tw, err)
	}
}

func TestErrors(t *testing.T) {
	ro := trtest.Rollout(t, nginxRollout)
	r := New("")
	w, err := r.Plan(ro, observe(), desired(10))
	trtest.ErrContains(t, err, `stable Ingress "shop/web" not found`)
	trtest.NoWrites(t, w)

	other := trtest.Obj(t, canaryTen)
	other.SetOwnerReferences(nil)
	w, err = r.Plan(ro, observe(trtest.Obj(t, stableIngress), other), desired(10))
	trtest.ErrContains(t, err, `"shop/web-web-canary"`, "controlled by another object")
	trtest.NoWrites(t, w)

	d := desired(10)
	d.StableService = "nobody"
	w, err = r.Plan(ro, observe(trtest.Obj(t, stableIngress)), d)
	trtest.ErrContains(t, err, `"shop/web"`, `"nobody"`)
	trtest.NoWrites(t, w)
}

func TestValidateFindsWhatPlanWouldRefuse(t *testing.T) {
	ro := trtest.Rollout(t, nginxRollout)
	r := New("")
	trtest.ErrContains(t, r.Validate(ro, observe()), `stable Ingress "shop/web" not found`)
	other := trtest.Obj(t, canaryTen)
	other.SetOwnerReferences(nil)
	trtest.ErrContains(t, r.Validate(ro, observe(trtest.Obj(t, stableIngress), other)), `"shop/web-web-canary"`, "controlled by another object")
	if err := r.Validate(ro, observe(trtest.Obj(t, stableIngress), trtest.Obj(t, canaryTen))); err != nil {
		t.Fatalf("a stable Ingress and our canary Ingress: %v", err)
	}
	ro.Spec.Strategy.Canary.StableService = "nobody"
	trtest.ErrContains(t, r.Validate(ro, observe(trtest.Obj(t, stableIngress))), `"shop/web"`, `"nobody"`)
}

func TestSeveralIngressesAndLongNames(t *testing.T) {
	ro := trtest.Rollout(t, nginxRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.Nginx.StableIngress = ""
	ro.Spec.Strategy.Canary.TrafficRouting.Nginx.StableIngresses = []string{"web", "web-internal"}
	internal := trtest.Obj(t, stableIngress)
	internal.SetName("web-internal")
	w, err := New("").Plan(ro, observe(trtest.Obj(t, stableIngress), internal), desired(5))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Creates) != 2 || w.Creates[1].GetName() != "web-web-internal-canary" {
		t.Fatalf("want two canaries, got %+v", w)
	}
	if refs := New("").References(ro); len(refs) != 4 {
		t.Fatalf("References = %+v", refs)
	}
	long := CanaryIngressName(strings.Repeat("r", 200), strings.Repeat("i", 100))
	if len(long) != 253 || !strings.HasSuffix(long, "-canary") || !strings.HasPrefix(long, "rrr") {
		t.Fatalf("long name %d %q", len(long), long)
	}
}

func TestLegacyIngress(t *testing.T) {
	ro := trtest.Rollout(t, nginxRollout)
	r := New("extensions/v1beta1").(*Router)
	stable := trtest.Obj(t, `
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - backend: {serviceName: web-stable, servicePort: 80}
`)
	observed := map[trafficrouting.Ref]*unstructured.Unstructured{r.ref("shop", "web"): stable}
	w, err := r.Plan(ro, observed, desired(30))
	if err != nil {
		t.Fatal(err)
	}
	if w.Creates[0].GetAPIVersion() != "extensions/v1beta1" {
		t.Fatalf("apiVersion %q", w.Creates[0].GetAPIVersion())
	}
	trtest.EqualValue(t, w.Creates[0].Object["spec"], `
rules:
- http:
    paths:
    - backend: {serviceName: web-canary, servicePort: 80}
`)
}

package traefik

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const rolloutDoc = `
metadata: {name: shop, namespace: web, uid: 41bd-shop}
spec:
  strategy:
    canary:
      stableService: shop-stable
      canaryService: shop-canary
      trafficRouting:
        traefik: {weightedTraefikServiceName: shop-weighted}
`

const traefikService = `
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: shop-weighted, namespace: web, resourceVersion: "4"}
spec:
  weighted:
    sticky: {cookie: {name: lb}}
    services:
    - {name: shop-stable, port: 80, weight: 100}
    - {name: shop-canary, port: 80, weight: 0}
    - {name: shop-static, port: 8080, weight: 5}
`

func desired(w int32) trafficrouting.Desired {
	return trafficrouting.Desired{StableService: "shop-stable", CanaryService: "shop-canary", CanaryWeight: w, MaxWeight: 100}
}

func observe(t *testing.T, r trafficrouting.Router, doc string) map[trafficrouting.Ref]*unstructured.Unstructured {
	obj := trtest.Obj(t, doc)
	ref := trafficrouting.Ref{Resource: r.(*Router).TraefikServices(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	return map[trafficrouting.Ref]*unstructured.Unstructured{ref: obj}
}

func TestSetsWeightsThenNothing(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("", "")
	observed := observe(t, r, traefikService)
	if err := r.Validate(ro, observed); err != nil {
		t.Fatal(err)
	}
	w, err := r.Plan(ro, observed, desired(30))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Updates) != 1 || len(w.Creates)+len(w.Deletes) != 0 {
		t.Fatalf("want one update, got %+v", w)
	}
	if !w.Updates[0].Replace {
		t.Fatal("a TraefikService may be updated, not patched, under Argo Rollouts' ClusterRole")
	}
	trtest.Equal(t, w.Updates[0].Unstructured, `
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: shop-weighted, namespace: web, resourceVersion: "4"}
spec:
  weighted:
    sticky: {cookie: {name: lb}}
    services:
    - {name: shop-stable, port: 80, weight: 70}
    - {name: shop-canary, port: 80, weight: 30}
    - {name: shop-static, port: 8080, weight: 5}
`)
	again, err := r.Plan(ro, trtest.Apply(observed, w), desired(30))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)
}

// An abort is a single write that gives the stable Service everything.
func TestAbortPutsAllOnStable(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("", "")
	w, _ := r.Plan(ro, observe(t, r, traefikService), desired(40))
	observed := trtest.Apply(observe(t, r, traefikService), w)
	w, err := r.Plan(ro, observed, desired(0))
	if err != nil || len(w.Updates) != 1 {
		t.Fatalf("want one update, got %+v, %v", w, err)
	}
	services, _, _ := unstructured.NestedSlice(w.Updates[0].Object, "spec", "weighted", "services")
	trtest.EqualValue(t, services, `
- {name: shop-stable, port: 80, weight: 100}
- {name: shop-canary, port: 80, weight: 0}
- {name: shop-static, port: 8080, weight: 5}
`)
}

func TestAPIGroupAndVersionFlags(t *testing.T) {
	r := New("traefik.containo.us", "traefik.containo.us/v1alpha1").(*Router)
	got := r.TraefikServices()
	if got.Group != "traefik.containo.us" || got.Version != "v1alpha1" || got.Resource != "traefikservices" {
		t.Fatalf("GVR = %v", got)
	}
	if v := New("", "v1alpha1").(*Router).TraefikServices().Version; v != "v1alpha1" {
		t.Fatalf("bare version: %q", v)
	}
}

func TestErrors(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("", "")
	trtest.ErrContains(t, r.Validate(ro, nil), `TraefikService "web/shop-weighted" not found`)
	noCanary := observe(t, r, `
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: shop-weighted, namespace: web}
spec:
  weighted:
    services: [{name: shop-stable, weight: 100}]
`)
	trtest.ErrContains(t, r.Validate(ro, noCanary), `canary Service "shop-canary"`)
	w, err := r.Plan(ro, noCanary, desired(10))
	trtest.ErrContains(t, err, "shop-canary")
	trtest.NoWrites(t, w)
	notWeighted := observe(t, r, `
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: shop-weighted, namespace: web}
spec:
  mirroring: {name: shop-stable}
`)
	trtest.ErrContains(t, r.Validate(ro, notWeighted), "spec.weighted.services was not found")
}

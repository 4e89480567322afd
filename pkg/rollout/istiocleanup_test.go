package rollout

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting/istio"
	"github.com/serin-dev/serin/pkg/trafficrouting/routers"
)

// A Rollout's marks come out of Istio objects once it no longer uses them,
// and stay while it does.

func pinnedRule() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
		"metadata": map[string]any{"name": "shop-dr", "namespace": "shop",
			"annotations": map[string]any{v1alpha1.AnnotationManagedByRollouts: "shop"}},
		"spec": map[string]any{"host": "shop", "subsets": []any{
			map[string]any{"name": "stable", "labels": map[string]any{"app": "shop", v1alpha1.LabelPodTemplateHash: "aaa"}},
			map[string]any{"name": "canary", "labels": map[string]any{"app": "shop", v1alpha1.LabelPodTemplateHash: "bbb"}},
		}},
	}}
}

func routedService() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "shop-vs", "namespace": "shop",
			"annotations": map[string]any{istio.AnnotationManagedRoutes: `{"shop/shop":["canary-header"]}`}},
		"spec": map[string]any{"http": []any{
			map[string]any{"name": "canary-header", "route": []any{map[string]any{"destination": map[string]any{"host": "shop-canary"}}}},
			map[string]any{"name": "primary", "route": []any{map[string]any{"destination": map[string]any{"host": "shop-stable"}}}},
		}},
	}}
}

const istioShop = `
metadata: {name: shop, namespace: shop}
spec:
  strategy:
    canary:
      stableService: shop-stable
      canaryService: shop-canary
      trafficRouting:
        managedRoutes: [{name: canary-header}]
        istio:
          virtualService: {name: shop-vs, routes: [primary]}
          destinationRule: {name: shop-dr, stableSubsetName: stable, canarySubsetName: canary}
`

type istioCleanupFixture struct {
	dyn      *dynamicfake.FakeDynamicClient
	rollouts cache.Indexer
	r        *IstioCleanup
}

func newIstioCleanupFixture(t *testing.T, rollouts ...*v1alpha1.Rollout) *istioCleanupFixture {
	t.Helper()
	dyn := routingDynamicClient(pinnedRule(), routedService())
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{RoutersIndex: RoutersIndexFunc(routers.ForRollout)})
	for _, ro := range rollouts {
		if err := indexer.Add(ro); err != nil {
			t.Fatal(err)
		}
	}
	objects := NewObjectCache(dyn, "", 0, nil, t.Context().Done())
	f := &istioCleanupFixture{dyn: dyn, rollouts: indexer, r: NewIstioCleanup(IstioCleanupOptions{
		Dynamic: dyn, Objects: objects, Rollouts: indexer, Recorder: record.NewFakeRecorder(10),
		VirtualServices: virtualServices, DestinationRules: destinationRules,
		Served: func(schema.GroupVersionResource) (bool, error) { return true, nil },
	})}
	if _, err := f.r.Reconcile(t.Context(), SweepKey); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		_, errVS := objects.List(virtualServices, "shop")
		_, errDR := objects.List(destinationRules, "shop")
		return errVS == nil && errDR == nil, nil
	})
	if err != nil {
		t.Fatal("the sweep did not fill the Istio caches")
	}
	f.dyn.ClearActions()
	return f
}

func (f *istioCleanupFixture) reconcileBoth(t *testing.T) {
	t.Helper()
	for _, gvr := range []schema.GroupVersionResource{virtualServices, destinationRules} {
		name := map[string]string{"virtualservices": "shop-vs", "destinationrules": "shop-dr"}[gvr.Resource]
		if _, err := f.r.Reconcile(t.Context(), IstioCleanupKey(gvr.Resource, "shop", name)); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *istioCleanupFixture) stored(t *testing.T, gvr schema.GroupVersionResource, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := f.dyn.Resource(gvr).Namespace("shop").Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestIstioObjectsOfADeletedRolloutAreGivenBack(t *testing.T) {
	f := newIstioCleanupFixture(t) // the Rollout is gone

	f.reconcileBoth(t)

	dr := f.stored(t, destinationRules, "shop-dr")
	if _, ok := dr.GetAnnotations()[v1alpha1.AnnotationManagedByRollouts]; ok {
		t.Error("the DestinationRule is still marked as managed")
	}
	subsets, _, _ := unstructured.NestedSlice(dr.Object, "spec", "subsets")
	for _, s := range subsets {
		labels, _ := s.(map[string]any)["labels"].(map[string]any)
		if _, pinned := labels[v1alpha1.LabelPodTemplateHash]; pinned || labels["app"] != "shop" {
			t.Errorf("subset labels %v, want app=shop alone", labels)
		}
	}
	vs := f.stored(t, virtualServices, "shop-vs")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	if len(routes) != 1 || routeNameOf(routes[0]) != "primary" {
		t.Errorf("routes left %v, want the user's primary route alone", routes)
	}
	if len(istio.RecordedRoutes(vs)) != 0 {
		t.Errorf("the managed-routes record stayed: %v", vs.GetAnnotations())
	}
}

func TestIstioObjectsOfALiveRolloutAreLeftAlone(t *testing.T) {
	ro := rolloutFromYAML(t, istioShop)
	f := newIstioCleanupFixture(t, ro)

	f.reconcileBoth(t)

	if got := actionSummary(f.dyn); len(got) != 0 {
		t.Fatalf("writes while the Rollout still routes through them: %v", got)
	}
}

func TestARolloutThatStopsRoutingThroughIstioGivesItsObjectsBack(t *testing.T) {
	ro := rolloutFromYAML(t, istioShop)
	ro.Spec.Strategy.Canary.TrafficRouting = nil
	f := newIstioCleanupFixture(t, ro)

	f.reconcileBoth(t)

	if got := actionSummary(f.dyn); len(got) != 2 {
		t.Fatalf("writes %v, want the two objects released", got)
	}
	if dr := f.stored(t, destinationRules, "shop-dr"); dr.GetAnnotations()[v1alpha1.AnnotationManagedByRollouts] != "" {
		t.Fatal("the DestinationRule is still marked")
	}
}

func rolloutFromYAML(t *testing.T, manifest string) *v1alpha1.Rollout {
	t.Helper()
	ro := &v1alpha1.Rollout{}
	if err := yaml.UnmarshalStrict([]byte(manifest), ro); err != nil {
		t.Fatal(err)
	}
	return ro
}

func routeNameOf(rt any) string {
	m, _ := rt.(map[string]any)
	name, _ := m["name"].(string)
	return name
}

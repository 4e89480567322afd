package main

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout"
	"github.com/serin-dev/serin/pkg/trafficrouting/routers"
)

// A change to an HTTPRoute that a Rollout selects by label, not by name,
// re-runs that Rollout.
func TestAChangeToASelectedRouteRerunsTheRollout(t *testing.T) {
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{
		rollout.RoutersIndex:   rollout.RoutersIndexFunc(routers.ForRollout),
		rollout.WorkloadsIndex: rollout.WorkloadsIndexFunc,
	})
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "edge"}, Spec: v1alpha1.RolloutSpec{
		Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{StableService: "s", CanaryService: "c",
			TrafficRouting: &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{
				"argoproj-labs/gatewayAPI": []byte(`{"httpRouteSelector": {"matchLabels": {"app": "demo"}}}`)}}}}}}
	if err := indexer.Add(ro); err != nil {
		t.Fatal(err)
	}
	httpRoutes := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	route := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "any-name", "namespace": "edge"}}}
	got := referencingRollouts(indexer, httpRoutes, routers.Config{}, nil)(route)
	if len(got) != 1 || got[0].Name != "demo" {
		t.Fatalf("re-runs %v, want edge/demo", got)
	}
	route.SetNamespace("other")
	if got := referencingRollouts(indexer, httpRoutes, routers.Config{}, nil)(route); len(got) != 0 {
		t.Fatalf("a route of another namespace re-runs %v", got)
	}
}

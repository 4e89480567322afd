package rollout

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
	"github.com/serin-dev/serin/pkg/trafficrouting/routers"
)

func managedALBIngress() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
		"metadata": map[string]any{"name": "shop", "namespace": "shop", "annotations": map[string]any{
			alb.ManagedAnnotations:                          `{"shop":["alb.ingress.kubernetes.io/actions.shop-stable"]}`,
			"alb.ingress.kubernetes.io/actions.shop-stable": `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"shop-canary","ServicePort":"80","Weight":30},{"ServiceName":"shop-stable","ServicePort":"80","Weight":70}]}}`,
		}},
		"spec": map[string]any{"rules": []any{map[string]any{"http": map[string]any{"paths": []any{
			map[string]any{"path": "/", "pathType": "Prefix", "backend": map[string]any{"service": map[string]any{"name": "shop-stable", "port": map[string]any{"name": "use-annotation"}}}},
		}}}}},
	}}
}

const albShop = `
metadata: {name: shop, namespace: shop}
spec:
  strategy:
    canary:
      stableService: shop-stable
      canaryService: shop-canary
      trafficRouting:
        alb: {ingress: shop, servicePort: 80}
`

func albCleanup(t *testing.T, rollouts ...*v1alpha1.Rollout) (*ALBCleanup, func() *unstructured.Unstructured, func() []string) {
	t.Helper()
	dyn := routingDynamicClient(managedALBIngress())
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{RoutersIndex: RoutersIndexFunc(routers.ForRollout)})
	for _, ro := range rollouts {
		if err := indexer.Add(ro); err != nil {
			t.Fatal(err)
		}
	}
	objects := NewObjectCache(dyn, "", 0, nil, t.Context().Done())
	r := NewALBCleanup(ALBCleanupOptions{Dynamic: dyn, Objects: objects, Rollouts: indexer, Recorder: record.NewFakeRecorder(10), Router: alb.New("").(*alb.Router)})
	if _, err := r.Reconcile(t.Context(), SweepKey); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		_, err := objects.List(ingresses, "shop")
		return err == nil, nil
	}); err != nil {
		t.Fatal("the sweep did not fill the Ingress cache")
	}
	dyn.ClearActions()
	stored := func() *unstructured.Unstructured {
		obj, err := dyn.Resource(ingresses).Namespace("shop").Get(t.Context(), "shop", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return obj
	}
	return r, stored, func() []string { return actionSummary(dyn) }
}

func TestTheIngressOfADeletedRolloutForwardsToItsServiceAgain(t *testing.T) {
	r, stored, _ := albCleanup(t)
	if _, err := r.Reconcile(t.Context(), cache.ObjectName{Namespace: "shop", Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	a := stored().GetAnnotations()
	if want := `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"shop-stable","ServicePort":"80","Weight":100}]}}`; a["alb.ingress.kubernetes.io/actions.shop-stable"] != want {
		t.Fatalf("action %s, want %s", a["alb.ingress.kubernetes.io/actions.shop-stable"], want)
	}
	if _, ok := a[alb.ManagedAnnotations]; ok {
		t.Fatal("the managed annotations record stayed")
	}
}

func TestTheIngressOfALiveRolloutIsLeftAlone(t *testing.T) {
	r, _, writes := albCleanup(t, rolloutFromYAML(t, albShop))
	if _, err := r.Reconcile(t.Context(), cache.ObjectName{Namespace: "shop", Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	if got := writes(); len(got) != 0 {
		t.Fatalf("writes while the Rollout still routes through it: %v", got)
	}
	if got := RolloutALBIngresses(rolloutFromYAML(t, albShop)); len(got) != 1 || got[0].Name != "shop" {
		t.Fatalf("keys %v", got)
	}
	if got := ManagedALBIngress(managedALBIngress()); len(got) != 1 {
		t.Fatalf("keys %v", got)
	}
}

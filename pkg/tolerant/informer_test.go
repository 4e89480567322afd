package tolerant

import (
	"context"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

var rolloutsGVR = v1alpha1.SchemeGroupVersion.WithResource("rollouts")

type reports struct {
	mu  sync.Mutex
	got map[string][]Dropped
}

func (r *reports) report(obj runtime.Object, dropped []Dropped) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ro := obj.(*v1alpha1.Rollout)
	r.got[ro.Namespace+"/"+ro.Name] = dropped
}

func (r *reports) of(key string) []Dropped {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[key]
}

func unstructuredObject(t *testing.T, manifest string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: object(t, manifest)}
}

// A malformed Rollout next to a good one: both are cached (the bad one
// without its malformed field), listed and watched, and only the bad one is
// reported.
func TestTheInformerCachesMalformedObjectsWithoutHoldingUpOthers(t *testing.T) {
	good := unstructuredObject(t, `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: good, namespace: shop, labels: {team: a}}
spec: {replicas: 3}
`)
	bad := unstructuredObject(t, malformedRollout)
	bad.SetLabels(map[string]string{"team": "a"})
	// An empty scheme: the fake then serves unstructured objects, as the API
	// server's JSON does.
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{rolloutsGVR: "RolloutList"}, good, bad)
	r := &reports{got: map[string][]Dropped{}}
	inf := NewInformer[v1alpha1.Rollout](Source{
		Client: client, Resource: rolloutsGVR,
		Tweak:  func(o *metav1.ListOptions) { o.LabelSelector = "team=a" },
		Report: r.report,
	}, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go inf.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("cache did not sync")
	}
	lister := rolloutlisters.NewRolloutLister(inf.GetIndexer())
	all, err := lister.List(labels.Everything())
	if err != nil || len(all) != 2 {
		t.Fatalf("listed %d Rollouts (%v), want both", len(all), err)
	}
	ro, err := lister.Rollouts("apps").Get("bad")
	if err != nil {
		t.Fatal(err)
	}
	if len(ro.Spec.Template.Spec.Containers[0].Resources.Requests) != 1 || ro.Spec.Strategy.Canary == nil {
		t.Fatalf("bad Rollout cached as %+v", ro.Spec)
	}
	if d := r.of("apps/bad"); len(d) != 1 {
		t.Fatalf("bad Rollout reported with %v", d)
	}
	if d := r.of("shop/good"); d != nil {
		t.Fatalf("good Rollout reported with %v", d)
	}

	// One created later arrives through the watch, decoded the same way.
	late := unstructuredObject(t, malformedRollout)
	late.SetName("late")
	late.SetLabels(map[string]string{"team": "a"})
	if _, err := client.Resource(rolloutsGVR).Namespace("apps").Create(ctx, late, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		_, err := lister.Rollouts("apps").Get("late")
		return err == nil && len(r.of("apps/late")) == 1, nil
	})
	if err != nil {
		t.Fatal("a malformed Rollout created later never reached the cache")
	}
}

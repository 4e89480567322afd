package rollout

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// ObjectCache caches the objects Rollouts reference but Serin does not own
// the kind of: workloads named by spec.workloadRef, and traffic-routing
// objects (VirtualServices, Ingresses, HTTPRoutes, ...). An informer for a
// kind starts only when a Rollout first references that kind, so a
// controller whose Rollouts never use Istio caches no VirtualService.
type ObjectCache struct {
	factory  dynamicinformer.DynamicSharedInformerFactory
	onChange func(schema.GroupVersionResource) cache.ResourceEventHandler
	stop     <-chan struct{}

	mu        sync.Mutex
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer
	// missing holds kinds the API server does not serve.
	missing map[schema.GroupVersionResource]error
}

// NewObjectCache returns a lazily started cache of referenced objects in
// namespace ("" for all). onChange gives, for each resource, the handler
// told about every change of a cached object of it (to enqueue the Rollouts
// that reference it).
func NewObjectCache(client dynamic.Interface, namespace string, resync time.Duration, onChange func(schema.GroupVersionResource) cache.ResourceEventHandler, stop <-chan struct{}) *ObjectCache {
	return &ObjectCache{
		factory:   dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, resync, namespace, nil),
		onChange:  onChange,
		stop:      stop,
		informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{},
		missing:   map[schema.GroupVersionResource]error{},
	}
}

// errNotSynced means an informer has just started and not listed yet.
var errNotSynced = fmt.Errorf("the object cache is still filling")

// Get returns the object, nil when it does not exist, errNotSynced while the
// kind's informer fills, or an error when the API server does not serve the
// kind (its CRD is not installed).
func (w *ObjectCache) Get(gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	inf, err := w.synced(gvr)
	if err != nil {
		return nil, err
	}
	obj, exists, err := inf.GetIndexer().GetByKey(namespace + "/" + name)
	if err != nil || !exists {
		return nil, err
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("workload cache holds %T", obj)
	}
	return u, nil
}

// List returns the cached objects of gvr in namespace, with the same
// errors as Get while the kind's informer fills or is not served.
func (w *ObjectCache) List(gvr schema.GroupVersionResource, namespace string) ([]*unstructured.Unstructured, error) {
	inf, err := w.synced(gvr)
	if err != nil {
		return nil, err
	}
	objs, err := inf.GetIndexer().ByIndex(cache.NamespaceIndex, namespace)
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// synced returns the informer of gvr, started if need be, once it has
// listed; until then errNotSynced, or why the kind is not served.
func (w *ObjectCache) synced(gvr schema.GroupVersionResource) (cache.SharedIndexInformer, error) {
	inf := w.informer(gvr)
	if inf.HasSynced() {
		return inf, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.missing[gvr]; err != nil {
		return nil, err
	}
	return nil, errNotSynced
}

// Start starts the cache of gvr, if it has not started yet, without
// waiting for it to fill.
func (w *ObjectCache) Start(gvr schema.GroupVersionResource) { w.informer(gvr) }

func (w *ObjectCache) informer(gvr schema.GroupVersionResource) cache.SharedIndexInformer {
	w.mu.Lock()
	defer w.mu.Unlock()
	if inf, ok := w.informers[gvr]; ok {
		return inf
	}
	inf := w.factory.ForResource(gvr).Informer()
	// Keep what resolving a template needs; status and managedFields go,
	// but for an Ingress's load balancer, where ALB verification looks.
	_ = inf.SetTransform(func(obj any) (any, error) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			u.SetManagedFields(nil)
			lb, keep, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "loadBalancer")
			unstructured.RemoveNestedField(u.Object, "status")
			if keep && gvr.Resource == "ingresses" {
				_ = unstructured.SetNestedField(u.Object, lb, "status", "loadBalancer")
			}
		}
		return obj, nil
	})
	if w.onChange != nil {
		_, _ = inf.AddEventHandler(w.onChange(gvr))
	}
	// A kind the API server does not serve never lists; remember why, so
	// the Rollout can say so instead of waiting forever.
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			w.mu.Lock()
			w.missing[gvr] = fmt.Errorf("the API server does not serve %s", gvr.String())
			w.mu.Unlock()
		}
	})
	w.informers[gvr] = inf
	w.factory.Start(w.stop)
	return inf
}

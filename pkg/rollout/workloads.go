package rollout

import (
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
)

// Workloads caches the kinds of workload that spec.workloadRef names. An
// informer for a kind starts only when a Rollout first references that kind,
// so a controller whose Rollouts never use workloadRef caches none of them.
type Workloads struct {
	factory  dynamicinformer.DynamicSharedInformerFactory
	onChange cache.ResourceEventHandler
	stop     <-chan struct{}

	mu        sync.Mutex
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer
}

// NewWorkloads returns a lazily started cache of referenced workloads in
// namespace ("" for all). onChange is told about every change of a cached
// workload (to enqueue the Rollouts that reference it).
func NewWorkloads(client dynamic.Interface, namespace string, resync time.Duration, onChange cache.ResourceEventHandler, stop <-chan struct{}) *Workloads {
	return &Workloads{
		factory:   dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, resync, namespace, nil),
		onChange:  onChange,
		stop:      stop,
		informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{},
	}
}

// errNotSynced means a workload informer has just started and not listed yet.
var errNotSynced = fmt.Errorf("the workload cache is still filling")

// Get returns the workload, nil when it does not exist, or errNotSynced.
func (w *Workloads) Get(gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	inf := w.informer(gvr)
	if !inf.HasSynced() {
		return nil, errNotSynced
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

func (w *Workloads) informer(gvr schema.GroupVersionResource) cache.SharedIndexInformer {
	w.mu.Lock()
	defer w.mu.Unlock()
	if inf, ok := w.informers[gvr]; ok {
		return inf
	}
	inf := w.factory.ForResource(gvr).Informer()
	// Keep what resolving a template needs; status and managedFields go.
	_ = inf.SetTransform(func(obj any) (any, error) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			u.SetManagedFields(nil)
			unstructured.RemoveNestedField(u.Object, "status")
		}
		return obj, nil
	})
	if w.onChange != nil {
		_, _ = inf.AddEventHandler(w.onChange)
	}
	w.informers[gvr] = inf
	w.factory.Start(w.stop)
	return inf
}

// WorkloadsIndex names the Rollout informer index from a workload
// ("resource/namespace/name") to the Rollouts whose workloadRef names it.
const WorkloadsIndex = "workloads"

// WorkloadsIndexFunc is the index function of WorkloadsIndex.
func WorkloadsIndexFunc(obj any) ([]string, error) {
	ro, ok := obj.(*v1alpha1.Rollout)
	if !ok {
		return nil, fmt.Errorf("expected a Rollout, got %T", obj)
	}
	gvr, ok := plan.WorkloadResource(ro.Spec.WorkloadRef)
	if !ok {
		return nil, nil
	}
	return []string{WorkloadKey(gvr.Resource, ro.Namespace, ro.Spec.WorkloadRef.Name)}, nil
}

// WorkloadKey is a WorkloadsIndex key.
func WorkloadKey(resource, namespace, name string) string {
	return resource + "/" + namespace + "/" + name
}

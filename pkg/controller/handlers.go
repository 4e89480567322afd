package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// Every handler here enqueues with a plain Add (EnqueueKey) and ignores
// updates whose resourceVersion did not change. Those are the informer's
// periodic resyncs, which replay the cache without anything having happened;
// a controller that wants a safety-net reconcile per resync period should not
// get one per watched object type.

// HandleAll enqueues an object whenever it is added, changed or deleted.
func HandleAll(q Enqueuer) cache.ResourceEventHandler {
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingObjectToName(obj); err == nil {
			q.EnqueueKey(key)
		} else {
			klog.Background().Error(err, "Cannot enqueue object")
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue,
		UpdateFunc: func(oldObj, newObj any) {
			if sameResourceVersion(oldObj, newObj) {
				return
			}
			enqueue(newObj)
		},
		DeleteFunc: enqueue,
	}
}

// HandleOwner enqueues the controller owner of an object, for owned objects
// such as a Rollout's ReplicaSets: the owner is enqueued when its object is
// added, changed or deleted. ownerKind and ownerGroup ("Rollout",
// "argoproj.io") select which owners count; the owner's API version is
// ignored. When an update moves the object from one owner to another, both
// are enqueued so the old one notices its loss.
func HandleOwner(q Enqueuer, ownerKind, ownerGroup string) cache.ResourceEventHandler {
	ownerOf := func(obj any) (cache.ObjectName, bool) {
		o, ok := metaOf(obj)
		if !ok {
			return cache.ObjectName{}, false
		}
		ref := metav1.GetControllerOfNoCopy(o)
		if ref == nil || ref.Kind != ownerKind {
			return cache.ObjectName{}, false
		}
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != ownerGroup {
			return cache.ObjectName{}, false
		}
		return cache.NewObjectName(o.GetNamespace(), ref.Name), true
	}
	enqueueOwner := func(obj any) {
		if key, ok := ownerOf(obj); ok {
			q.EnqueueKey(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: enqueueOwner,
		UpdateFunc: func(oldObj, newObj any) {
			if sameResourceVersion(oldObj, newObj) {
				return
			}
			newKey, newOK := ownerOf(newObj)
			if oldKey, oldOK := ownerOf(oldObj); oldOK && (!newOK || oldKey != newKey) {
				q.EnqueueKey(oldKey)
			}
			if newOK {
				q.EnqueueKey(newKey)
			}
		},
		DeleteFunc: enqueueOwner,
	}
}

// HandleMapped enqueues the keys that mapFn returns for an object, for
// relations found through an index or a lister, e.g. a Service and the
// Rollouts that reference it. On update the keys of the old and the new
// object are both enqueued, since the relation itself may have changed.
// mapFn never sees a DeletedFinalStateUnknown: it gets the object inside.
func HandleMapped(q Enqueuer, mapFn func(obj any) []cache.ObjectName) cache.ResourceEventHandler {
	enqueue := func(obj any) {
		for _, key := range mapFn(unwrapTombstone(obj)) {
			q.EnqueueKey(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue,
		UpdateFunc: func(oldObj, newObj any) {
			if sameResourceVersion(oldObj, newObj) {
				return
			}
			// The queue collapses duplicates, so keys common to both are
			// reconciled once.
			enqueue(oldObj)
			enqueue(newObj)
		},
		DeleteFunc: enqueue,
	}
}

// ByIndex returns a mapping function for HandleMapped that looks an object's
// "namespace/name" up in index indexName of indexer and returns the names of
// the objects found. It fits indexes such as "the Services a Rollout
// references", whose values are the referenced objects' namespace/name.
func ByIndex(indexer cache.Indexer, indexName string) func(obj any) []cache.ObjectName {
	return func(obj any) []cache.ObjectName {
		o, ok := metaOf(obj)
		if !ok {
			return nil
		}
		found, err := indexer.ByIndex(indexName, cache.MetaObjectToName(o).String())
		if err != nil {
			klog.Background().Error(err, "Index lookup failed", "index", indexName)
			return nil
		}
		keys := make([]cache.ObjectName, 0, len(found))
		for _, f := range found {
			if key, err := cache.ObjectToName(f); err == nil {
				keys = append(keys, key)
			}
		}
		return keys
	}
}

// StripManagedFields is an informer transform (SetTransform, or the
// factories' WithTransform option) that drops metadata.managedFields before
// an object is cached. Controllers never read them and they are often the
// largest part of an object's metadata. Objects keep nil managedFields, which
// an Update leaves untouched on the server.
func StripManagedFields(obj any) (any, error) {
	if o, ok := metaOf(obj); ok {
		o.SetManagedFields(nil)
	}
	return obj, nil
}

// sameResourceVersion reports whether an update is a resync: the same object
// delivered again. Objects without metadata never compare equal.
func sameResourceVersion(oldObj, newObj any) bool {
	o, okOld := metaOf(oldObj)
	n, okNew := metaOf(newObj)
	return okOld && okNew && o.GetResourceVersion() != "" && o.GetResourceVersion() == n.GetResourceVersion()
}

// metaOf returns the object metadata of obj, looking inside tombstones.
func metaOf(obj any) (metav1.Object, bool) {
	o, err := meta.Accessor(unwrapTombstone(obj))
	if err != nil {
		return nil, false
	}
	return o, true
}

func unwrapTombstone(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

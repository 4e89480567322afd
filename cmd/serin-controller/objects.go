package main

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/rollout"
)

// sharedObjects is the one cache of referenced objects (workloads and
// traffic-routing objects) the controllers share, and the handlers each
// controller asked to be told of changes with. Handlers are added while
// the controllers are built, before any informer of the cache starts.
type sharedObjects struct {
	cache    *rollout.ObjectCache
	handlers []func(schema.GroupVersionResource) cache.ResourceEventHandler
}

// objects returns the shared cache, nil without a dynamic client.
func (d *deps) objects() *rollout.ObjectCache {
	if d.dynamic == nil {
		return nil
	}
	if d.shared == nil {
		d.shared = &sharedObjects{}
	}
	if d.shared.cache == nil {
		s := d.shared
		s.cache = rollout.NewObjectCache(d.dynamic, d.watchNamespace, 0, s.handler, d.ctx.Done())
	}
	return d.shared.cache
}

// onObjectChange adds a handler, per resource (nil for none), of changes
// to objects of the shared cache.
func (d *deps) onObjectChange(h func(schema.GroupVersionResource) cache.ResourceEventHandler) {
	if d.shared == nil {
		d.shared = &sharedObjects{}
	}
	d.shared.handlers = append(d.shared.handlers, h)
}

// handler tells every handler that wants changes of gvr about each one.
func (s *sharedObjects) handler(gvr schema.GroupVersionResource) cache.ResourceEventHandler {
	var hs []cache.ResourceEventHandler
	for _, h := range s.handlers {
		if eh := h(gvr); eh != nil {
			hs = append(hs, eh)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			for _, h := range hs {
				h.OnAdd(obj, false)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			for _, h := range hs {
				h.OnUpdate(oldObj, newObj)
			}
		},
		DeleteFunc: func(obj any) {
			for _, h := range hs {
				h.OnDelete(obj)
			}
		},
	}
}

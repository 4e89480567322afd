package controller

import (
	"sync"

	"k8s.io/client-go/tools/cache"
)

// Writes remembers, per object, the resourceVersion an object had when this
// controller last wrote it. Until the informer delivers a newer version, the
// cache is behind the controller's own write, and reconciling from it would
// repeat work already done (create a second AnalysisRun, say). The
// resourceVersion is compared for equality only, as the API requires.
type Writes struct {
	mu   sync.Mutex
	from map[cache.ObjectName]string
}

// Wrote records that the object, seen at resourceVersion, was just written.
func (w *Writes) Wrote(key cache.ObjectName, resourceVersion string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.from == nil {
		w.from = map[cache.ObjectName]string{}
	}
	w.from[key] = resourceVersion
}

// Behind tells whether the cache still shows the version the last write
// started from. Once it shows another, the record is dropped.
func (w *Writes) Behind(key cache.ObjectName, resourceVersion string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	from, ok := w.from[key]
	if !ok {
		return false
	}
	if from == resourceVersion {
		return true
	}
	delete(w.from, key)
	return false
}

// Forget drops what is known of a deleted object.
func (w *Writes) Forget(key cache.ObjectName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.from, key)
}

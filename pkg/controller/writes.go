package controller

import (
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// WriteGuardTTL bounds how long a reconcile waits for the informer to bring
// the controller's own write. The watch normally delivers it within
// milliseconds, and a write that produced a new resourceVersion always
// produces an event; this is the safety net for one that never arrives, so
// a lost event delays an object by this much at worst instead of stopping it.
const WriteGuardTTL = 2 * time.Minute

// Writes remembers, per object, the resourceVersions the object had before
// this controller's last writes to it. While the informer still shows one of
// them, the cache is behind the controller's own write, and reconciling from
// it would repeat work already done (create a second AnalysisRun, say).
// resourceVersions are compared for equality only, as the API requires.
//
// A write whose response kept the resourceVersion changed nothing (the API
// server pruned every field it carried, say) and is not recorded: no event
// will follow it, so waiting for one would stall the object.
type Writes struct {
	// Clock tells when a record expires; nil means the real clock.
	Clock clock.PassiveClock

	mu   sync.Mutex
	recs map[cache.ObjectName]writeRecord
}

type writeRecord struct {
	// stale are versions the cache may still show that predate our writes.
	stale map[string]bool
	// expires is when the cache is trusted again regardless.
	expires time.Time
}

func (w *Writes) now() time.Time {
	if w.Clock == nil {
		return time.Now()
	}
	return w.Clock.Now()
}

// Wrote records that a write moved the object from resourceVersion from to
// resourceVersion to. Successive writes in one reconcile add up: every
// version before the last write stays stale.
func (w *Writes) Wrote(key cache.ObjectName, from, to string) {
	if from == to {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.recs == nil {
		w.recs = map[cache.ObjectName]writeRecord{}
	}
	rec, ok := w.recs[key]
	if !ok || !w.now().Before(rec.expires) {
		rec = writeRecord{stale: map[string]bool{}}
	}
	rec.stale[from] = true
	delete(rec.stale, to)
	rec.expires = w.now().Add(WriteGuardTTL)
	w.recs[key] = rec
}

// Behind tells whether the cache, showing resourceVersion, still predates
// the controller's last write, and if so how long until the record expires:
// a caller that skips its work must come back by then, so that a timer that
// fired into the skipped reconcile is not lost. A newer version, or an
// expired record, drops the record.
func (w *Writes) Behind(key cache.ObjectName, resourceVersion string) (bool, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rec, ok := w.recs[key]
	if !ok {
		return false, 0
	}
	left := rec.expires.Sub(w.now())
	if left <= 0 || !rec.stale[resourceVersion] {
		delete(w.recs, key)
		return false, 0
	}
	return true, left
}

// Forget drops what is known of a deleted object.
func (w *Writes) Forget(key cache.ObjectName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.recs, key)
}

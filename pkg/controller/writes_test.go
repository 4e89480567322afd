package controller

import (
	"testing"
	"time"

	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
)

var guardKey = cache.ObjectName{Namespace: "ns", Name: "a"}

func TestWritesTellsWhenTheCacheIsBehind(t *testing.T) {
	w := Writes{Clock: clocktesting.NewFakePassiveClock(time.Unix(1000, 0))}
	if behind, _ := w.Behind(guardKey, "1"); behind {
		t.Fatal("nothing written yet, yet the cache is said to be behind")
	}
	w.Wrote(guardKey, "1", "2")
	behind, left := w.Behind(guardKey, "1")
	if !behind || left != WriteGuardTTL {
		t.Fatalf("the cache still shows the version our write started from: behind=%v for %v, want true for %v", behind, left, WriteGuardTTL)
	}
	if behind, _ := w.Behind(guardKey, "2"); behind {
		t.Fatal("the version our write produced means the cache caught up")
	}
	if behind, _ := w.Behind(guardKey, "1"); behind {
		t.Fatal("once caught up, the record is gone")
	}
	w.Wrote(guardKey, "3", "4")
	w.Forget(guardKey)
	if behind, _ := w.Behind(guardKey, "3"); behind {
		t.Fatal("a forgotten object is never behind")
	}
}

func TestAWriteThatKeptTheResourceVersionIsNotRecorded(t *testing.T) {
	// The API server pruned every field of the patch (a status field that a
	// user's CRD lacks): no event follows, so nothing may wait for one.
	var w Writes
	w.Wrote(guardKey, "7", "7")
	if behind, _ := w.Behind(guardKey, "7"); behind {
		t.Fatal("a no-op write made the guard wait for an event that never comes")
	}
}

func TestEveryVersionBeforeTheLastWriteStaysStale(t *testing.T) {
	// One reconcile patches the Rollout's metadata (1 -> 2), then its status
	// (2 -> 3). The informer may deliver version 2 first: still behind.
	var w Writes
	w.Wrote(guardKey, "1", "2")
	w.Wrote(guardKey, "2", "3")
	for _, rv := range []string{"1", "2"} {
		if behind, _ := w.Behind(guardKey, rv); !behind {
			t.Fatalf("version %s predates our last write, yet the cache is said to be current", rv)
		}
	}
	if behind, _ := w.Behind(guardKey, "3"); behind {
		t.Fatal("the last write's version is current")
	}
}

func TestAGuardRecordExpires(t *testing.T) {
	clock := clocktesting.NewFakePassiveClock(time.Unix(1000, 0))
	w := Writes{Clock: clock}
	w.Wrote(guardKey, "1", "2")
	clock.SetTime(clock.Now().Add(WriteGuardTTL - time.Second))
	behind, left := w.Behind(guardKey, "1")
	if !behind || left != time.Second {
		t.Fatalf("one second before expiry: behind=%v for %v, want true for 1s", behind, left)
	}
	clock.SetTime(clock.Now().Add(time.Second))
	if behind, _ := w.Behind(guardKey, "1"); behind {
		t.Fatal("an expired record still holds the object back")
	}
	if len(w.recs) != 0 {
		t.Fatalf("the expired record is still kept: %v", w.recs)
	}
}

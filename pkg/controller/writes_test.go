package controller

import (
	"testing"

	"k8s.io/client-go/tools/cache"
)

func TestWritesTellsWhenTheCacheIsBehind(t *testing.T) {
	var w Writes
	key := cache.ObjectName{Namespace: "ns", Name: "a"}
	if w.Behind(key, "1") {
		t.Fatal("nothing written yet")
	}
	w.Wrote(key, "1")
	if !w.Behind(key, "1") {
		t.Fatal("the cache still shows the version our write started from")
	}
	if w.Behind(key, "2") {
		t.Fatal("a newer version means the cache caught up")
	}
	if w.Behind(key, "1") {
		t.Fatal("once caught up, the record is gone")
	}
	w.Wrote(key, "3")
	w.Forget(key)
	if w.Behind(key, "3") {
		t.Fatal("a forgotten object is never behind")
	}
}

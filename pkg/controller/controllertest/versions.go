// Package controllertest holds what the reconcilers' tests share about fake
// API clients.
package controllertest

import (
	"strconv"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
)

// Versioned makes a fake clientset's patches and updates behave as the API
// server's do: a write that changes the object gives it a new
// resourceVersion, and a write that changes nothing keeps the old one (the
// fake tracker never touches resourceVersions by itself).
func Versioned(fake *k8stesting.Fake, tracker k8stesting.ObjectTracker) {
	var next atomic.Int64
	next.Store(1000)
	react := k8stesting.ObjectReaction(tracker)
	for _, verb := range []string{"patch", "update"} {
		fake.PrependReactor(verb, "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
			before := current(tracker, action)
			handled, obj, err := react(action)
			if err != nil || obj == nil {
				return handled, obj, err
			}
			after, aerr := meta.Accessor(obj)
			if aerr != nil {
				return handled, obj, err
			}
			if before != nil {
				after.SetResourceVersion(before.(metaObject).GetResourceVersion())
			}
			if before == nil || !equality.Semantic.DeepEqual(before, obj) {
				after.SetResourceVersion(strconv.FormatInt(next.Add(1), 10))
			}
			if uerr := tracker.Update(action.GetResource(), obj, action.GetNamespace()); uerr != nil {
				return true, nil, uerr
			}
			return handled, obj.DeepCopyObject(), nil
		})
	}
}

type metaObject interface{ GetResourceVersion() string }

// current is the stored object a write action is about, or nil.
func current(tracker k8stesting.ObjectTracker, action k8stesting.Action) runtime.Object {
	var name string
	switch a := action.(type) {
	case k8stesting.PatchAction:
		name = a.GetName()
	case k8stesting.UpdateAction:
		m, err := meta.Accessor(a.GetObject())
		if err != nil {
			return nil
		}
		name = m.GetName()
	default:
		return nil
	}
	obj, err := tracker.Get(action.GetResource(), action.GetNamespace(), name)
	if err != nil {
		return nil
	}
	if _, ok := obj.(metaObject); !ok {
		return nil
	}
	return obj
}

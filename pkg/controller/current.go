package controller

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// Current reads from a cache the object a key names, for a reconcile that
// acts on what the controller last wrote. It reports act=false, with the
// result to return, when there is nothing to do now: the object is gone
// (its write record is dropped), it is being deleted, or the cache does not
// show our last write to it yet (come back when the guard expires, so a
// timer that fired into this skipped reconcile is never lost; the write's
// own event normally comes first).
func Current[T metav1.Object](ctx context.Context, key cache.ObjectName, written *Writes, get func(namespace, name string) (T, error)) (obj T, act bool, res Result, err error) {
	obj, err = get(key.Namespace, key.Name)
	if apierrors.IsNotFound(err) {
		written.Forget(key)
		return obj, false, Result{}, nil
	}
	if err != nil {
		return obj, false, Result{}, err
	}
	if obj.GetDeletionTimestamp() != nil {
		return obj, false, Result{}, nil
	}
	if behind, left := written.Behind(key, obj.GetResourceVersion()); behind {
		klog.FromContext(ctx).V(4).Info("Cache does not show our last write yet; waiting for it")
		return obj, false, Result{RequeueAfter: left}, nil
	}
	return obj, true, Result{}, nil
}

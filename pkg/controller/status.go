package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/event"
	"github.com/serin-dev/serin/pkg/mergepatch"
)

// Patcher is the Patch method of a typed client of one namespace, such as
// the generated clientset's Rollouts(namespace).
type Patcher[T metav1.Object] interface {
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error)
}

// StatusPatcher writes the status of objects of one kind: a JSON merge patch
// of only the status fields that changed, guarded by the resourceVersion the
// new status was computed from, so that a user's concurrent write (an abort,
// a promote, spec.terminate) is never overwritten with stale values.
type StatusPatcher[T metav1.Object] struct {
	// Client returns the client of a namespace's objects.
	Client func(namespace string) Patcher[T]
	// Subresource is "status" for a kind with a status subresource, and
	// empty for one whose status is written on the object itself.
	Subresource string
	// Describe names an object in errors, as in "Rollout api". Required.
	Describe func(obj metav1.Object) string
	// Gone, when set, is the cause given in place of the NotFound when the
	// write finds the object deleted, so that the reconciler can tell its key
	// is done.
	Gone error
	// Writes records each write, for the reconciler's write guard. Required.
	Writes *Writes
}

// Patch sends the status fields of desired that differ from observed, and
// nothing at all when none does. resourceVersion is the object's version the
// desired status was computed from; the write fails with a Conflict if the
// object has moved on. A failure is reported as "patching status of
// <Describe(obj)>: <cause>".
func (p *StatusPatcher[T]) Patch(ctx context.Context, obj metav1.Object, resourceVersion string, observed, desired any) error {
	diff, changed, err := mergepatch.Create(observed, desired)
	if err != nil || !changed {
		return err
	}
	data, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": resourceVersion},
		"status":   json.RawMessage(diff),
	})
	if err != nil {
		return err
	}
	var subresources []string
	if p.Subresource != "" {
		subresources = []string{p.Subresource}
	}
	updated, err := p.Client(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.MergePatchType, data, metav1.PatchOptions{}, subresources...)
	if p.Gone != nil && apierrors.IsNotFound(err) {
		err = p.Gone
	}
	if err != nil {
		return fmt.Errorf("patching status of %s: %w", p.Describe(obj), err)
	}
	p.Writes.Wrote(cache.MetaObjectToName(obj), resourceVersion, updated.GetResourceVersion())
	klog.FromContext(ctx).V(4).Info("Patched status", "object", p.Describe(obj), "fields", changedFields(diff))
	return nil
}

// changedFields names the top-level status fields of a merge patch, for a
// debug log that shows what a write changed without its values.
func changedFields(diff []byte) []string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(diff, &fields) != nil {
		return nil
	}
	return slices.Sorted(maps.Keys(fields))
}

// RecordEvents records a plan's events on obj, as Warning or Normal events.
func RecordEvents(recorder record.EventRecorder, obj runtime.Object, events []event.Event) {
	for _, e := range events {
		kind := corev1.EventTypeNormal
		if e.Warning {
			kind = corev1.EventTypeWarning
		}
		recorder.Event(obj, kind, e.Reason, e.Message)
	}
}

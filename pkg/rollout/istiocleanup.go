package rollout

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/istio"
)

// IstioCleanupOptions are the IstioCleanup reconciler's dependencies.
type IstioCleanupOptions struct {
	Dynamic       dynamic.Interface
	RolloutClient versioned.Interface
	// Objects is the cache of traffic-routing objects the Rollout
	// reconciler shares.
	Objects *ObjectCache
	// Rollouts is the Rollout informer's indexer, with RoutersIndex.
	Rollouts cache.Indexer
	Recorder record.EventRecorder
	// VirtualServices and DestinationRules are the resources at the
	// configured Istio API version.
	VirtualServices, DestinationRules schema.GroupVersionResource
	// Served tells whether the API server serves a resource; the sweep
	// starts the caches of served kinds only.
	Served func(schema.GroupVersionResource) (bool, error)
}

// IstioCleanup takes out of Istio objects what a Rollout put there once no
// Rollout uses them any more (deleted, or routing elsewhere): from a
// DestinationRule, the pod template hash labels of its subsets and the
// managed-by-rollouts annotation, so the subsets select the app's pods
// again; from a VirtualService, the header and mirror routes the Rollout
// installed, as its managed-routes record lists them. Weights are left as
// they are: with the Services given back to the app, both destinations
// reach the same pods.
type IstioCleanup struct {
	o      IstioCleanupOptions
	owners *ownerLookup
}

// NewIstioCleanup returns an IstioCleanup reconciler.
func NewIstioCleanup(o IstioCleanupOptions) *IstioCleanup {
	return &IstioCleanup{o: o, owners: newOwnerLookup(o.RolloutClient, o.Rollouts)}
}

var _ controller.Reconciler = (*IstioCleanup)(nil)

// EventTrafficRoutingReleased is the reason of the event recorded on an
// Istio object given back to its app.
const EventTrafficRoutingReleased = "TrafficRoutingReleased"

// SweepKey is the queue key that starts the caches of Istio objects, so
// that objects left by Rollouts deleted while no controller ran are seen.
var SweepKey = cache.ObjectName{}

// IstioCleanupKey is the queue key of an Istio object: its resource goes
// in front of its name.
func IstioCleanupKey(resource, namespace, name string) cache.ObjectName {
	return cache.ObjectName{Namespace: namespace, Name: resource + "/" + name}
}

// Reconcile releases the Istio object named by key from the Rollouts that
// no longer use it. A converged object costs no API request.
func (r *IstioCleanup) Reconcile(ctx context.Context, key cache.ObjectName) (controller.Result, error) {
	if key == SweepKey {
		return controller.Result{}, r.sweep()
	}
	resource, name, _ := strings.Cut(key.Name, "/")
	var gvr schema.GroupVersionResource
	switch resource {
	case r.o.VirtualServices.Resource:
		gvr = r.o.VirtualServices
	case r.o.DestinationRules.Resource:
		gvr = r.o.DestinationRules
	default:
		return controller.Result{}, nil
	}
	obj, err := r.o.Objects.Get(gvr, key.Namespace, name)
	if err != nil || obj == nil {
		return controller.Result{}, err
	}
	released, changed, err := r.release(ctx, gvr, obj)
	if err != nil || !changed {
		return controller.Result{}, err
	}
	return controller.Result{}, r.write(ctx, gvr, obj, released)
}

// sweep starts the caches of the Istio kinds the API server serves; their
// initial listing then brings every object through Reconcile.
func (r *IstioCleanup) sweep() error {
	for _, gvr := range []schema.GroupVersionResource{r.o.VirtualServices, r.o.DestinationRules} {
		served, err := r.o.Served(gvr)
		if err != nil {
			return err
		}
		if served {
			r.o.Objects.Start(gvr)
		}
	}
	return nil
}

// release returns obj without what Rollouts no longer using it put there.
func (r *IstioCleanup) release(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, bool, error) {
	objKey := ObjectKey(gvr.Resource, obj.GetNamespace(), obj.GetName())
	if gvr == r.o.DestinationRules {
		owner, managed := obj.GetAnnotations()[v1alpha1.AnnotationManagedByRollouts]
		if !managed {
			return nil, false, nil
		}
		gone, err := r.unused(ctx, obj, objKey, obj.GetNamespace(), owner)
		if err != nil || !gone {
			return nil, false, err
		}
		out, changed := istio.ReleaseDestinationRule(obj)
		return out, changed, nil
	}
	var leavers []string
	for rolloutKey := range istio.RecordedRoutes(obj) {
		namespace, name, ok := strings.Cut(rolloutKey, "/")
		if !ok {
			continue
		}
		gone, err := r.unused(ctx, obj, objKey, namespace, name)
		if err != nil {
			return nil, false, err
		}
		if gone {
			leavers = append(leavers, rolloutKey)
		}
	}
	if len(leavers) == 0 {
		return nil, false, nil
	}
	out, changed := istio.ReleaseVirtualService(obj, leavers)
	return out, changed, nil
}

// unused tells whether Rollout namespace/name no longer uses the object:
// no cached Rollout of that name references it, and it is not another
// instance's.
func (r *IstioCleanup) unused(ctx context.Context, obj *unstructured.Unstructured, objKey, namespace, name string) (bool, error) {
	users, err := r.o.Rollouts.ByIndex(RoutersIndex, objKey)
	if err != nil {
		return false, err
	}
	for _, u := range users {
		if ro, ok := u.(*v1alpha1.Rollout); ok && ro.Namespace == namespace && ro.Name == name && ro.DeletionTimestamp == nil {
			return false, nil
		}
	}
	foreign, err := r.owners.elsewhere(ctx, obj, namespace, name)
	return !foreign && err == nil, err
}

// write patches the object, guarded by the resourceVersion the decision was
// made from, and records why.
func (r *IstioCleanup) write(ctx context.Context, gvr schema.GroupVersionResource, before, after *unstructured.Unstructured) error {
	data, changed, err := guardedMergePatch(before, after)
	if err != nil || !changed {
		return err
	}
	_, err = r.o.Dynamic.Resource(gvr).Namespace(after.GetNamespace()).Patch(ctx, after.GetName(), types.MergePatchType, data, metav1.PatchOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("releasing %s %s/%s: %w", gvr.Resource, after.GetNamespace(), after.GetName(), err)
	}
	what := "the header and mirror routes of Rollouts that no longer use it"
	if gvr == r.o.DestinationRules {
		what = fmt.Sprintf("its subsets' %s labels and %s annotation", v1alpha1.LabelPodTemplateHash, v1alpha1.AnnotationManagedByRollouts)
	}
	if r.o.Recorder != nil {
		r.o.Recorder.Eventf(before, corev1.EventTypeNormal, EventTrafficRoutingReleased, "No Rollout uses this %s any more: removed %s", before.GetKind(), what)
	}
	klog.FromContext(ctx).Info("Released a traffic-routing object no Rollout uses any more", "resource", gvr.Resource, "object", klog.KObj(after))
	return nil
}

// RolloutIstioObjects maps a Rollout to the IstioCleanup keys of the
// objects of the given resources its routers reference: a Rollout deleted
// or routing elsewhere has its old objects looked at again.
func RolloutIstioObjects(routersFor func(*v1alpha1.Rollout) []trafficrouting.Router, resources ...schema.GroupVersionResource) func(obj any) []cache.ObjectName {
	return func(obj any) []cache.ObjectName {
		ro, ok := obj.(*v1alpha1.Rollout)
		if !ok {
			return nil
		}
		var out []cache.ObjectName
		for _, router := range routersFor(ro) {
			for _, ref := range router.References(ro) {
				if slices.Contains(resources, ref.Resource) {
					out = append(out, IstioCleanupKey(ref.Resource.Resource, ref.Namespace, ref.Name))
				}
			}
		}
		return out
	}
}

// IstioObjectKey maps a cached Istio object of resource gvr to its
// IstioCleanup key.
func IstioObjectKey(gvr schema.GroupVersionResource) func(obj any) []cache.ObjectName {
	return func(obj any) []cache.ObjectName {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return nil
		}
		return []cache.ObjectName{IstioCleanupKey(gvr.Resource, u.GetNamespace(), u.GetName())}
	}
}

package rollout

import (
	"context"
	"fmt"

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
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// ALBCleanupOptions are the ALBCleanup reconciler's dependencies.
type ALBCleanupOptions struct {
	Dynamic       dynamic.Interface
	RolloutClient versioned.Interface
	// Objects is the cache of traffic-routing objects the Rollout
	// reconciler shares.
	Objects *ObjectCache
	// Rollouts is the Rollout informer's indexer, with RoutersIndex.
	Rollouts cache.Indexer
	Recorder record.EventRecorder
	// Router is the ALB router, for its Ingress resource.
	Router *alb.Router
}

// ALBCleanup gives an Ingress back once a Rollout recorded in its
// managed-alb-annotations no longer uses it (deleted, or routing
// elsewhere), as Argo Rollouts' Ingress controller does: the weighted
// action forwards everything to its Service again and the Rollout's
// record goes (see alb.Router.Release).
type ALBCleanup struct {
	o      ALBCleanupOptions
	owners *ownerLookup
}

// NewALBCleanup returns an ALBCleanup reconciler.
func NewALBCleanup(o ALBCleanupOptions) *ALBCleanup {
	return &ALBCleanup{o: o, owners: newOwnerLookup(o.RolloutClient, o.Rollouts)}
}

var _ controller.Reconciler = (*ALBCleanup)(nil)

// Reconcile releases the Ingress named by key from the Rollouts that no
// longer use it. A converged Ingress costs no API request.
func (r *ALBCleanup) Reconcile(ctx context.Context, key cache.ObjectName) (controller.Result, error) {
	gvr := r.o.Router.Resources()[0]
	if key == SweepKey {
		r.o.Objects.Start(gvr)
		return controller.Result{}, nil
	}
	ing, err := r.o.Objects.Get(gvr, key.Namespace, key.Name)
	if err != nil || ing == nil {
		return controller.Result{}, err
	}
	var leavers []string
	for _, name := range alb.ManagedBy(ing) {
		gone, err := r.unused(ctx, gvr, ing, name)
		if err != nil {
			return controller.Result{}, err
		}
		if gone {
			leavers = append(leavers, name)
		}
	}
	released, changed := r.o.Router.Release(ing, leavers)
	if !changed {
		return controller.Result{}, nil
	}
	return controller.Result{}, r.write(ctx, gvr, ing, released)
}

// unused tells whether Rollout name of the Ingress's namespace no longer
// uses it: no cached Rollout of that name references it, and it is not
// another instance's.
func (r *ALBCleanup) unused(ctx context.Context, gvr schema.GroupVersionResource, ing *unstructured.Unstructured, name string) (bool, error) {
	users, err := r.o.Rollouts.ByIndex(RoutersIndex, ObjectKey(gvr.Resource, ing.GetNamespace(), ing.GetName()))
	if err != nil {
		return false, err
	}
	for _, u := range users {
		if ro, ok := u.(*v1alpha1.Rollout); ok && ro.Name == name && ro.Namespace == ing.GetNamespace() && ro.DeletionTimestamp == nil {
			return false, nil
		}
	}
	foreign, err := r.owners.elsewhere(ctx, ing, ing.GetNamespace(), name)
	return !foreign && err == nil, err
}

func (r *ALBCleanup) write(ctx context.Context, gvr schema.GroupVersionResource, before, after *unstructured.Unstructured) error {
	data, changed, err := guardedMergePatch(before, after)
	if err != nil || !changed {
		return err
	}
	_, err = r.o.Dynamic.Resource(gvr).Namespace(after.GetNamespace()).Patch(ctx, after.GetName(), types.MergePatchType, data, metav1.PatchOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("releasing Ingress %s/%s: %w", after.GetNamespace(), after.GetName(), err)
	}
	if r.o.Recorder != nil {
		r.o.Recorder.Eventf(before, corev1.EventTypeNormal, EventTrafficRoutingReleased, "A Rollout that managed this Ingress's ALB actions no longer uses it: its actions forward to their Service again")
	}
	klog.FromContext(ctx).Info("Released an ALB Ingress a Rollout no longer uses", "object", klog.KObj(after))
	return nil
}

// RolloutALBIngresses maps a Rollout to the keys of the Ingresses its ALB
// router references, so a Rollout deleted or routing elsewhere has them
// looked at again.
func RolloutALBIngresses(obj any) []cache.ObjectName {
	ro, ok := obj.(*v1alpha1.Rollout)
	if !ok {
		return nil
	}
	var out []cache.ObjectName
	if cfg := alb.Config(ro); cfg != nil {
		for _, name := range alb.Ingresses(cfg) {
			out = append(out, cache.ObjectName{Namespace: ro.Namespace, Name: name})
		}
	}
	return out
}

// ManagedALBIngress maps a cached Ingress that records managed ALB
// annotations to its key.
func ManagedALBIngress(obj any) []cache.ObjectName {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || len(alb.ManagedBy(u)) == 0 {
		return nil
	}
	return []cache.ObjectName{{Namespace: u.GetNamespace(), Name: u.GetName()}}
}

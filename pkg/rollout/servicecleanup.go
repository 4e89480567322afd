package rollout

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/controller"
)

// ServiceCleanupOptions are the ServiceCleanup reconciler's dependencies.
type ServiceCleanupOptions struct {
	KubeClient    kubernetes.Interface
	RolloutClient versioned.Interface
	ServiceLister corelisters.ServiceLister
	// Rollouts is the Rollout informer's indexer, with ServicesIndex. It
	// holds only this controller instance's Rollouts.
	Rollouts cache.Indexer
	Recorder record.EventRecorder
}

// ServiceCleanup gives a Service back to the app when no Rollout uses it any
// more: the Rollout that managed it was deleted, or now names other
// Services (a blue-green Rollout turned canary leaves its active Service,
// say). The rollouts-pod-template-hash selector a Rollout injected and the
// managed-by-rollouts annotation go, so the Service selects the app's pods
// again instead of a revision that may have no pod left.
//
// The cache holds only this controller instance's Rollouts (--instance-id),
// so a Service whose manager is not cached is looked up once, by name,
// before anything is written: one of another instance is left alone, and
// remembered so that a resync does not ask again.
type ServiceCleanup struct {
	o      ServiceCleanupOptions
	owners *ownerLookup
}

// NewServiceCleanup returns a ServiceCleanup reconciler.
func NewServiceCleanup(o ServiceCleanupOptions) *ServiceCleanup {
	return &ServiceCleanup{o: o, owners: newOwnerLookup(o.RolloutClient, o.Rollouts)}
}

var _ controller.Reconciler = (*ServiceCleanup)(nil)

// EventServiceReleased is the reason of the event recorded on a Service
// given back to its app.
const EventServiceReleased = "ServiceReleased"

// Reconcile releases the Service named by key if a Rollout managed it and
// none uses it now. A converged Service costs no API request.
func (r *ServiceCleanup) Reconcile(ctx context.Context, key cache.ObjectName) (controller.Result, error) {
	svc, err := r.o.ServiceLister.Services(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	owner, managed := svc.Annotations[v1alpha1.AnnotationManagedByRollouts]
	if !managed {
		return controller.Result{}, nil
	}
	users, err := r.o.Rollouts.ByIndex(ServicesIndex, key.Namespace+"/"+key.Name)
	if err != nil {
		return controller.Result{}, err
	}
	for _, u := range users {
		if ro, ok := u.(*v1alpha1.Rollout); ok && ro.Name == owner && ro.DeletionTimestamp == nil {
			return controller.Result{}, nil // still in use
		}
	}
	if foreign, err := r.owners.elsewhere(ctx, svc, svc.Namespace, owner); foreign || err != nil {
		return controller.Result{}, err
	}
	if err := r.release(ctx, svc); err != nil {
		return controller.Result{}, err
	}
	klog.FromContext(ctx).Info("Released a Service no Rollout uses any more", "service", klog.KObj(svc), "rollout", owner)
	return controller.Result{}, nil
}

// release removes the injected selector and the managed-by annotation,
// guarded by the resourceVersion the decision was made from.
func (r *ServiceCleanup) release(ctx context.Context, svc *corev1.Service) error {
	patch := map[string]any{
		"metadata": map[string]any{
			"resourceVersion": svc.ResourceVersion,
			"annotations":     map[string]any{v1alpha1.AnnotationManagedByRollouts: nil},
		},
	}
	if _, ok := svc.Spec.Selector[v1alpha1.LabelPodTemplateHash]; ok {
		patch["spec"] = map[string]any{"selector": map[string]any{v1alpha1.LabelPodTemplateHash: nil}}
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = r.o.KubeClient.CoreV1().Services(svc.Namespace).Patch(ctx, svc.Name, types.MergePatchType, data, metav1.PatchOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("releasing Service %s: %w", svc.Name, err)
	}
	if r.o.Recorder != nil {
		r.o.Recorder.Eventf(svc, corev1.EventTypeNormal, EventServiceReleased,
			"Rollout %q no longer uses this Service: removed its %s selector and %s annotation",
			svc.Annotations[v1alpha1.AnnotationManagedByRollouts], v1alpha1.LabelPodTemplateHash, v1alpha1.AnnotationManagedByRollouts)
	}
	return nil
}

// RolloutServices maps a Rollout to the Services it names, for the
// ServiceCleanup queue: a Rollout deleted or re-pointed has its old
// Services looked at again.
func RolloutServices(obj any) []cache.ObjectName {
	ro, ok := obj.(*v1alpha1.Rollout)
	if !ok {
		return nil
	}
	var out []cache.ObjectName
	for _, n := range ServiceNames(ro) {
		out = append(out, cache.ObjectName{Namespace: ro.Namespace, Name: n})
	}
	return out
}

package rollout

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/mergepatch"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// The writes below use only the verbs Argo Rollouts' own ClusterRole grants
// (its install.yaml and Helm chart), so that a user who swaps the image and
// keeps that role loses nothing: Deployments and pods are updated, not
// patched; traffic-routing objects are patched, not updated.

// scaleWorkload sets spec.replicas of the Deployment spec.workloadRef names,
// updating the cached object (so a concurrent edit conflicts instead of
// being lost). A Deployment not cached yet is retried.
func (r *Reconciler) scaleWorkload(ctx context.Context, ro *v1alpha1.Rollout, replicas int32) error {
	if r.o.Objects == nil || r.o.Dynamic == nil {
		return fmt.Errorf("scaling Deployment %s needs the object cache", ro.Spec.WorkloadRef.Name)
	}
	cached, err := r.o.Objects.Get(deployments, ro.Namespace, ro.Spec.WorkloadRef.Name)
	if err != nil || cached == nil {
		return err // gone: nothing to scale
	}
	d := cached.DeepCopy()
	if err := unstructured.SetNestedField(d.Object, int64(replicas), "spec", "replicas"); err != nil {
		return err
	}
	_, err = r.o.Dynamic.Resource(deployments).Namespace(ro.Namespace).Update(ctx, d, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("scaling Deployment %s: %w", ro.Spec.WorkloadRef.Name, err)
	}
	return nil
}

// patchPods sets the ephemeral labels and annotations the plan gives. The
// pod cache keeps no pod spec, and an update needs the whole pod, so the
// Rollout's pods are listed once here, only in a reconcile that changes pod
// metadata (after a promotion, say).
func (r *Reconciler) patchPods(ctx context.Context, ro *v1alpha1.Rollout, patches []plan.PodPatch) error {
	if len(patches) == 0 {
		return nil
	}
	selector := labels.Everything()
	if ro.Spec.Selector != nil {
		s, err := metav1.LabelSelectorAsSelector(ro.Spec.Selector)
		if err != nil {
			return err
		}
		selector = s
	}
	list, err := r.o.KubeClient.CoreV1().Pods(ro.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return fmt.Errorf("listing the pods whose metadata changes: %w", err)
	}
	live := map[types.UID]*corev1.Pod{}
	for i := range list.Items {
		live[list.Items[i].UID] = &list.Items[i]
	}
	for _, pp := range patches {
		pod, ok := live[pp.Pod.UID]
		if !ok {
			continue // gone meanwhile
		}
		pod.Labels = applyMetadata(pod.Labels, pp.Labels)
		pod.Annotations = applyMetadata(pod.Annotations, pp.Annotations)
		if _, err := r.o.KubeClient.CoreV1().Pods(pod.Namespace).Update(ctx, pod, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("updating the metadata of pod %s: %w", pod.Name, err)
		}
	}
	return nil
}

// applyMetadata sets (a value) or removes (nil) keys of m.
func applyMetadata(m map[string]string, change map[string]*string) map[string]string {
	for k, v := range change {
		if v == nil {
			delete(m, k)
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = *v
	}
	return m
}

// guardedMergePatch is the JSON merge patch from observed to desired,
// carrying observed's resourceVersion so that the API server refuses it if
// the object changed meanwhile, as an update would.
func guardedMergePatch(observed, desired *unstructured.Unstructured) ([]byte, bool, error) {
	data, changed, err := mergepatch.Create(observed.Object, desired.Object)
	if err != nil || !changed {
		return nil, false, err
	}
	rv := observed.GetResourceVersion()
	if rv == "" {
		return data, true, nil
	}
	patch := map[string]any{}
	if err := json.Unmarshal(data, &patch); err != nil {
		return nil, false, err
	}
	meta, _ := patch["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		patch["metadata"] = meta
	}
	meta["resourceVersion"] = rv
	data, err = json.Marshal(patch)
	return data, true, err
}

// patchRouterObject sends a router's update as a merge patch from the
// object it was planned from.
func (r *Reconciler) patchRouterObject(ctx context.Context, w trafficrouting.Write) error {
	if w.Observed == nil {
		return fmt.Errorf("no observed object to patch from")
	}
	data, changed, err := guardedMergePatch(w.Observed, w.Object)
	if err != nil || !changed {
		return err
	}
	_, err = r.o.Dynamic.Resource(w.Ref.Resource).Namespace(w.Ref.Namespace).Patch(ctx, w.Ref.Name, types.MergePatchType, data, metav1.PatchOptions{})
	return err
}

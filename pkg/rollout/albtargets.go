package rollout

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// observeTargets checks, while verification is on, that the pods of the
// Service alb.TargetsService names are registered in the target groups of
// its TargetGroupBindings: the bindings and the Service's Endpoints are
// read from the API server (only then, as Argo Rollouts does), the
// registered targets from ELBv2. It stops at the first error.
func (r *Reconciler) observeTargets(ctx context.Context, ro *v1alpha1.Rollout, st *plan.State) {
	if r.o.ELB == nil || (ro.Spec.Strategy.BlueGreen == nil && alb.Config(ro) == nil) {
		return
	}
	st.Targets = &plan.TargetVerification{RetryInterval: r.o.VerifyRetryInterval}
	active := ""
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil && st.Services[bg.ActiveService] != nil {
		active = st.Services[bg.ActiveService].Spec.Selector[v1alpha1.LabelPodTemplateHash]
	}
	svc := st.Services[alb.TargetsService(ro, active, oldScaledUp(ro, st))]
	if svc == nil || r.o.Dynamic == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, elbTimeout)
	defer cancel()
	list, err := r.o.Dynamic.Resource(r.o.TargetGroupBindings).Namespace(ro.Namespace).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		return // no TargetGroupBinding CRD: nothing binds the Service
	}
	if err != nil {
		st.Targets.Observations = []alb.TargetsObservation{{Service: svc.Name, Err: err}}
		return
	}
	items := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		items = append(items, &list.Items[i])
	}
	bindings := alb.BindingsOf(items, svc)
	if len(bindings) == 0 {
		return
	}
	ep, err := r.o.KubeClient.CoreV1().Endpoints(ro.Namespace).Get(ctx, svc.Name, metav1.GetOptions{})
	if err != nil {
		st.Targets.Observations = []alb.TargetsObservation{{Service: svc.Name, Binding: bindings[0], Err: err}}
		return
	}
	r.checkRegistrations(ctx, svc, ep, bindings, st.Targets)
}

func (r *Reconciler) checkRegistrations(ctx context.Context, svc *corev1.Service, ep *corev1.Endpoints, bindings []alb.Binding, v *plan.TargetVerification) {
	for _, b := range bindings {
		expected := alb.ExpectedTargets(b, svc, ep)
		if expected == nil {
			continue
		}
		o := alb.TargetsObservation{Service: svc.Name, Binding: b, Expected: expected}
		o.Registered, o.Err = r.o.ELB.RegisteredTargets(ctx, b.TargetGroupARN)
		v.Observations = append(v.Observations, o)
		if o.Err != nil {
			return
		}
	}
}

// oldScaledUp tells whether a ReplicaSet other than the desired one still
// has pods and no scale-down deadline: what a canary's promotion is about
// to scale down.
func oldScaledUp(ro *v1alpha1.Rollout, st *plan.State) bool {
	for _, rs := range st.ReplicaSets {
		_, deadline := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]
		if rs.Labels[v1alpha1.LabelPodTemplateHash] != ro.Status.CurrentPodHash && rs.Spec.Replicas != nil && *rs.Spec.Replicas > 0 && !deadline {
			return true
		}
	}
	return false
}

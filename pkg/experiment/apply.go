package experiment

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/experiment/plan"
)

// apply makes a plan's writes, then patches the status and records the
// events. A write the API server refuses for good is reported in an
// Outcome, and the plan is computed again with it so that the status says
// so; any other failure is returned, to be retried.
func (r *Reconciler) apply(ctx context.Context, ex *v1alpha1.Experiment, st plan.State, p plan.Plan) (plan.Plan, error) {
	out := plan.Outcome{TemplateErrors: map[string]string{}, Collisions: map[string]bool{},
		RunErrors: map[string]string{}, RunNames: map[string]string{}}
	steps := []func() error{
		func() error { return r.createReplicaSets(ctx, ex, p.CreateReplicaSets, &out) },
		func() error { return r.updateReplicaSets(ctx, ex, st, p.UpdateReplicaSets, &out) },
		func() error { return r.writeServices(ctx, ex, p, &out) },
		func() error { return r.createRuns(ctx, ex, p.CreateRuns, &out) },
		func() error { return r.terminateRuns(ctx, ex, p.TerminateRuns) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return p, err
		}
	}
	if !out.Empty() {
		st.Outcome = out
		again := plan.Compute(st)
		p.Status, p.Events, p.RolloutEvents, p.RequeueAfter = again.Status, again.Events, again.RolloutEvents, again.RequeueAfter
	}
	if err := r.status.Patch(ctx, ex, ex.ResourceVersion, ex.Status, p.Status); err != nil {
		return p, err
	}
	controller.RecordEvents(r.o.Recorder, ex, p.Events)
	if ref := rolloutOwner(ex); ref != nil && len(p.RolloutEvents) > 0 {
		ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: ref.Name, Namespace: ex.Namespace, UID: ref.UID}}
		controller.RecordEvents(r.o.Recorder, ro, p.RolloutEvents)
	}
	return p, nil
}

// rolloutOwner is the owner reference to the Rollout that runs the
// experiment as a step, if any.
func rolloutOwner(ex *v1alpha1.Experiment) *metav1.OwnerReference {
	for i := range ex.OwnerReferences {
		if ex.OwnerReferences[i].Kind == v1alpha1.RolloutKind {
			return &ex.OwnerReferences[i]
		}
	}
	return nil
}

// refused reports whether the API server refused a write for good: no
// retry of the same request can succeed.
func refused(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsMethodNotSupported(err) || apierrors.IsRequestEntityTooLargeError(err)
}

func templateOf(obj metav1.Object) string {
	return obj.GetAnnotations()[v1alpha1.AnnotationExperimentTemplateName]
}

// createReplicaSets creates the planned ReplicaSets. A name already taken
// by the template's own ReplicaSet (the cache had not shown it yet) is
// fine; one taken by another ReplicaSet is a collision.
func (r *Reconciler) createReplicaSets(ctx context.Context, ex *v1alpha1.Experiment, sets []*appsv1.ReplicaSet, out *plan.Outcome) error {
	client := r.o.KubeClient.AppsV1().ReplicaSets(ex.Namespace)
	for _, rs := range sets {
		tmpl := templateOf(rs)
		_, err := client.Create(ctx, rs, metav1.CreateOptions{})
		switch {
		case err == nil:
			klog.FromContext(ctx).Info("Created ReplicaSet", "replicaSet", rs.Name, "template", tmpl)
		case apierrors.IsAlreadyExists(err):
			existing, err := r.o.ReplicaSetLister.ReplicaSets(ex.Namespace).Get(rs.Name)
			if apierrors.IsNotFound(err) {
				existing, err = client.Get(ctx, rs.Name, metav1.GetOptions{})
			}
			if err != nil {
				return fmt.Errorf("reading ReplicaSet %s, whose name is taken: %w", rs.Name, err)
			}
			if !plan.Owns(ex, existing, tmpl) {
				klog.FromContext(ctx).Info("ReplicaSet name is taken by another ReplicaSet", "replicaSet", rs.Name, "template", tmpl)
				out.Collisions[tmpl] = true
			}
		case refused(err):
			out.TemplateErrors[tmpl] = fmt.Sprintf(plan.MessageRSCreateFailed, tmpl, err)
			r.o.Recorder.Eventf(ex, corev1.EventTypeNormal, plan.EventRSCreateError, plan.MessageRSCreateError, rs.Name, err)
		default:
			return fmt.Errorf("creating ReplicaSet %s: %w", rs.Name, err)
		}
	}
	return nil
}

// updateReplicaSets writes scaled ReplicaSets, guarded by the
// resourceVersion the plan saw.
func (r *Reconciler) updateReplicaSets(ctx context.Context, ex *v1alpha1.Experiment, st plan.State, sets []*appsv1.ReplicaSet, out *plan.Outcome) error {
	client := r.o.KubeClient.AppsV1().ReplicaSets(ex.Namespace)
	for _, rs := range sets {
		_, err := client.Update(ctx, rs, metav1.UpdateOptions{})
		switch {
		case err == nil:
		case refused(err):
			tmpl := templateOf(rs)
			out.TemplateErrors[tmpl] = fmt.Sprintf(plan.MessageRSScaleFailed, tmpl, *rs.Spec.Replicas, err)
			dir := "down"
			if old := st.ReplicaSets[tmpl]; old != nil && old.Spec.Replicas != nil && *old.Spec.Replicas < *rs.Spec.Replicas {
				dir = "up"
			}
			r.o.Recorder.Eventf(ex, corev1.EventTypeWarning, plan.EventRSUpdateError, "Failed to scale %s %s: %v", rs.Name, dir, err)
		default:
			return fmt.Errorf("updating ReplicaSet %s: %w", rs.Name, err)
		}
	}
	return nil
}

// writeServices creates and deletes the templates' Services. A name taken
// by a Service the cache does not show yet is retried: once cached, the
// plan tells whose it is.
func (r *Reconciler) writeServices(ctx context.Context, ex *v1alpha1.Experiment, p plan.Plan, out *plan.Outcome) error {
	client := r.o.KubeClient.CoreV1().Services(ex.Namespace)
	for _, svc := range p.CreateServices {
		_, err := client.Create(ctx, svc, metav1.CreateOptions{})
		switch {
		case err == nil:
		case refused(err):
			tmpl := templateOf(svc)
			out.TemplateErrors[tmpl] = fmt.Sprintf(plan.MessageServiceCreateFailed, svc.Name, tmpl, err)
		default:
			return fmt.Errorf("creating Service %s: %w", svc.Name, err)
		}
	}
	for _, svc := range p.DeleteServices {
		uid := svc.UID
		err := client.Delete(ctx, svc.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		switch {
		case err == nil, apierrors.IsNotFound(err):
		case refused(err):
			tmpl := templateOf(svc)
			out.TemplateErrors[tmpl] = fmt.Sprintf(plan.MessageServiceDeleteFailed, tmpl, err)
		default:
			return fmt.Errorf("deleting Service %s: %w", svc.Name, err)
		}
	}
	return nil
}

// terminateRuns sets spec.terminate on runs, with the merge patch Argo
// Rollouts sends.
func (r *Reconciler) terminateRuns(ctx context.Context, ex *v1alpha1.Experiment, runs []*v1alpha1.AnalysisRun) error {
	client := r.o.Client.ArgoprojV1alpha1().AnalysisRuns(ex.Namespace)
	for _, run := range runs {
		_, err := client.Patch(ctx, run.Name, types.MergePatchType, []byte(`{"spec":{"terminate":true}}`), metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("terminating AnalysisRun %s: %w", run.Name, err)
		}
	}
	return nil
}

// errExperimentGone marks a status write that found the Experiment deleted.
var errExperimentGone = errors.New("the Experiment no longer exists")

// statusPatcher writes the status fields that changed, on the Experiment
// itself, guarded by the resourceVersion the plan was made from.
func statusPatcher(client versioned.Interface, written *controller.Writes) controller.StatusPatcher[*v1alpha1.Experiment] {
	return controller.StatusPatcher[*v1alpha1.Experiment]{
		Client: func(namespace string) controller.Patcher[*v1alpha1.Experiment] {
			return client.ArgoprojV1alpha1().Experiments(namespace)
		},
		Describe: func(ex metav1.Object) string {
			return fmt.Sprintf("Experiment %s/%s", ex.GetNamespace(), ex.GetName())
		},
		Gone:   errExperimentGone,
		Writes: written,
	}
}

package rollout

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/rollout/plan"
)

// observeExperiments reads the Experiments the Rollout controls, by its UID.
func (r *Reconciler) observeExperiments(ro *v1alpha1.Rollout, st *plan.State) error {
	if r.o.OwnedExperiments == nil || ro.Spec.Strategy.Canary == nil {
		return nil
	}
	owned, err := r.o.OwnedExperiments.ByIndex(controller.OwnerIndex, string(ro.UID))
	if err != nil {
		return err
	}
	for _, o := range owned {
		ex, ok := o.(*v1alpha1.Experiment)
		if !ok {
			continue
		}
		st.Experiments = append(st.Experiments, ex)
		if ex.Name == ro.Status.Canary.CurrentExperiment {
			if err := r.observeExperimentServices(ex, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// observeExperimentServices reads the Services of the current Experiment's
// templates: routers whose backends name a port take it from them.
func (r *Reconciler) observeExperimentServices(ex *v1alpha1.Experiment, st *plan.State) error {
	for _, ts := range ex.Status.TemplateStatuses {
		if ts.ServiceName == "" {
			continue
		}
		svc, err := r.o.ServiceLister.Services(ex.Namespace).Get(ts.ServiceName)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		st.Services[ts.ServiceName] = svc
	}
	return nil
}

// applyExperiments creates, stops and deletes the Rollout's Experiments.
func (r *Reconciler) applyExperiments(ctx context.Context, ro *v1alpha1.Rollout, p *plan.Plan) error {
	exs := r.o.RolloutClient.ArgoprojV1alpha1().Experiments(ro.Namespace)
	if ex := p.CreateExperiment; ex != nil {
		name, err := r.createExperiment(ctx, ro, ex)
		if err != nil {
			return err
		}
		if name != ex.Name {
			renameExperiment(p, ex.Name, name)
		}
	}
	for _, ex := range p.TerminateExperiments {
		_, err := exs.Patch(ctx, ex.Name, types.MergePatchType, []byte(`{"spec":{"terminate":true}}`), metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("terminating Experiment %s: %w", ex.Name, err)
		}
	}
	for _, ex := range p.DeleteExperiments {
		uid := ex.UID
		err := exs.Delete(ctx, ex.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("deleting Experiment %s: %w", ex.Name, err)
		}
	}
	return nil
}

// createExperiment creates a planned Experiment and returns the name of the
// one the Rollout goes on with. When the name is taken, the Experiment
// holding it is read (on this error path only); if it is the Rollout's own,
// made by an earlier reconcile the cache has not shown yet, it is used, and
// otherwise the next numbered name is tried, up to five.
func (r *Reconciler) createExperiment(ctx context.Context, ro *v1alpha1.Rollout, ex *v1alpha1.Experiment) (string, error) {
	exs := r.o.RolloutClient.ArgoprojV1alpha1().Experiments(ro.Namespace)
	base := ex.Name
	for n := 1; ; n++ {
		_, err := exs.Create(ctx, ex, metav1.CreateOptions{})
		if err == nil {
			return ex.Name, nil
		}
		if !apierrors.IsAlreadyExists(err) || n > 5 {
			return "", fmt.Errorf("creating Experiment %s: %w", ex.Name, err)
		}
		existing, err := exs.Get(ctx, ex.Name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("reading Experiment %s, whose name is taken: %w", ex.Name, err)
		}
		if err == nil && isOwnExperiment(existing, ex, ro) {
			klog.FromContext(ctx).Info("Taking up the Experiment an earlier reconcile created", "experiment", existing.Name)
			return existing.Name, nil
		}
		ex = ex.DeepCopy()
		ex.Name = fmt.Sprintf("%s-%d", base, n)
	}
}

// isOwnExperiment reports whether existing is the Experiment planned as
// want, made by an earlier reconcile: controlled by this Rollout, for the
// same pod template hash, not being deleted, still running the same spec.
func isOwnExperiment(existing, want *v1alpha1.Experiment, ro *v1alpha1.Rollout) bool {
	ref := metav1.GetControllerOfNoCopy(existing)
	if ref == nil || ref.UID != ro.UID || existing.DeletionTimestamp != nil {
		return false
	}
	if existing.Labels[v1alpha1.LabelPodTemplateHash] != want.Labels[v1alpha1.LabelPodTemplateHash] {
		return false
	}
	return !existing.Spec.Terminate && !existing.Status.Phase.Completed() && plan.SameExperimentSpec(existing.Spec, want.Spec)
}

// renameExperiment points the status and the creation event at the name
// the planned Experiment was created under.
func renameExperiment(p *plan.Plan, from, to string) {
	if p.Status.Canary.CurrentExperiment == from {
		p.Status.Canary.CurrentExperiment = to
	}
	for i, e := range p.Events {
		if e.Reason == v1alpha1.EventExperimentCreated {
			p.Events[i].Message = strings.Replace(e.Message, "'"+from+"'", "'"+to+"'", 1)
		}
	}
}

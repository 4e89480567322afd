package analysis

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/analysis/plan"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/controller"
)

// apply carries out a plan: provider clean-ups, then either the deletion of
// an expired run or one merge patch of the changed status fields, then the
// events.
func (r *Reconciler) apply(ctx context.Context, run *v1alpha1.AnalysisRun, p plan.Plan) error {
	for _, c := range p.Collect {
		r.collect(ctx, run, c)
	}
	if p.Delete {
		uid := run.UID
		err := r.o.Client.ArgoprojV1alpha1().AnalysisRuns(run.Namespace).Delete(ctx, run.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting AnalysisRun %s/%s after its TTL: %w", run.Namespace, run.Name, err)
		}
		klog.FromContext(ctx).Info("Deleted the AnalysisRun: its TTL after completion passed")
	} else if err := r.status.Patch(ctx, run, run.ResourceVersion, run.Status, p.Status); err != nil {
		return err
	}
	controller.RecordEvents(r.o.Recorder, run, p.Events)
	return nil
}

// errRunGone marks a write that found the AnalysisRun deleted: the work
// for its key ends there instead of being retried.
var errRunGone = errors.New("the AnalysisRun no longer exists")

// statusPatcher writes the status fields that changed, guarded by the
// resourceVersion the plan was made from. AnalysisRuns have no status
// subresource: the patch goes to the object itself, as in Argo Rollouts.
func statusPatcher(client versioned.Interface, written *controller.Writes) controller.StatusPatcher[*v1alpha1.AnalysisRun] {
	return controller.StatusPatcher[*v1alpha1.AnalysisRun]{
		Client: func(namespace string) controller.Patcher[*v1alpha1.AnalysisRun] {
			return client.ArgoprojV1alpha1().AnalysisRuns(namespace)
		},
		Describe: func(run metav1.Object) string {
			return fmt.Sprintf("AnalysisRun %s/%s", run.GetNamespace(), run.GetName())
		},
		Gone:   errRunGone,
		Writes: written,
	}
}

// collect lets a provider remove what it made for measurements no longer
// kept. A failure is logged: the next trim retries it.
func (r *Reconciler) collect(ctx context.Context, run *v1alpha1.AnalysisRun, c plan.Collect) {
	logger := klog.FromContext(ctx).WithValues("metric", c.Metric.Name)
	provider, err := r.o.Providers.NewProvider(ctx, run, c.Metric)
	if err == nil {
		err = provider.GarbageCollect(ctx, run, c.Metric, c.Limit)
	}
	if err != nil {
		logger.Error(err, "Garbage collection of old measurements failed")
	}
}

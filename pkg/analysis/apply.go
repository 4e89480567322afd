package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/analysis/plan"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/mergepatch"
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
	} else if err := r.patchStatus(ctx, run, p.Status); err != nil {
		return err
	}
	for _, e := range p.Events {
		kind := corev1.EventTypeNormal
		if e.Warning {
			kind = corev1.EventTypeWarning
		}
		r.o.Recorder.Event(run, kind, e.Reason, e.Message)
	}
	return nil
}

// errRunGone marks a write that found the AnalysisRun deleted: the work
// for its key ends there instead of being retried.
var errRunGone = errors.New("the AnalysisRun no longer exists")

// patchStatus sends the status fields that changed, guarded by the
// resourceVersion the plan was made from. AnalysisRuns have no status
// subresource: the patch goes to the object itself, as in Argo Rollouts.
func (r *Reconciler) patchStatus(ctx context.Context, run *v1alpha1.AnalysisRun, status v1alpha1.AnalysisRunStatus) error {
	diff, changed, err := mergepatch.Create(run.Status, status)
	if err != nil || !changed {
		return err
	}
	data, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": run.ResourceVersion},
		"status":   json.RawMessage(diff),
	})
	if err != nil {
		return err
	}
	updated, err := r.o.Client.ArgoprojV1alpha1().AnalysisRuns(run.Namespace).Patch(ctx, run.Name, types.MergePatchType, data, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		err = errRunGone
	}
	if err != nil {
		return fmt.Errorf("patching status of AnalysisRun %s/%s: %w", run.Namespace, run.Name, err)
	}
	r.written.Wrote(cache.MetaObjectToName(run), run.ResourceVersion, updated.ResourceVersion)
	return nil
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

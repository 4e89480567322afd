package experiment

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/experiment/plan"
)

// maxRunNameTries bounds the names tried for one run.
const maxRunNameTries = 10

// createRuns creates the planned AnalysisRuns. When a name is taken, the
// run holding it is read (runs of another controller instance never reach
// this cache): if it is this analysis' run, made by an earlier reconcile
// whose status write the cache has not shown, it is used; otherwise the next
// ".<n>" name is tried.
func (r *Reconciler) createRuns(ctx context.Context, ex *v1alpha1.Experiment, creates []plan.RunCreate, out *plan.Outcome) error {
	client := r.o.Client.ArgoprojV1alpha1().AnalysisRuns(ex.Namespace)
	for _, c := range creates {
		run := c.Run.DeepCopy()
		planned, base := run.Name, ex.Name+"-"+c.Analysis
		n := 0
		for try := 0; ; try++ {
			_, err := client.Create(ctx, run, metav1.CreateOptions{})
			if err == nil || !apierrors.IsAlreadyExists(err) || try == maxRunNameTries {
				if err != nil {
					if !refused(err) {
						return fmt.Errorf("creating AnalysisRun %s: %w", run.Name, err)
					}
					out.RunErrors[c.Analysis] = fmt.Sprintf(plan.MessageRunCreateFailed, c.Analysis, err)
				}
				break
			}
			existing, err := client.Get(ctx, run.Name, metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("reading AnalysisRun %s, whose name is taken: %w", run.Name, err)
			}
			if err == nil && ownRun(ex, existing, run) {
				klog.FromContext(ctx).Info("Taking up the AnalysisRun an earlier reconcile created", "analysisRun", existing.Name)
				break
			}
			for n++; templates.CollisionName(base, n) == planned; n++ {
			}
			run.Name = templates.CollisionName(base, n)
		}
		if run.Name != planned {
			out.RunNames[c.Analysis] = run.Name
		}
	}
	return nil
}

// ownRun reports whether existing is the run planned as want, made by an
// earlier reconcile: controlled by the experiment, still running, with the
// same spec.
func ownRun(ex *v1alpha1.Experiment, existing, want *v1alpha1.AnalysisRun) bool {
	ref := metav1.GetControllerOfNoCopy(existing)
	return ref != nil && ref.UID == ex.UID && existing.DeletionTimestamp == nil &&
		!existing.Spec.Terminate && !existing.Status.Phase.Completed() && templates.SameSpec(existing.Spec, want.Spec)
}

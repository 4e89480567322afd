// Package analysis reconciles AnalysisRuns: it reads a run from the informer
// cache, asks the pure plan package which measurements are due, takes them
// through the metric providers, asks the plan for the resulting status, and
// writes that status with a single merge patch, only when it changed. A
// completed run costs no API request unless its time-to-live expires.
//
// AnalysisRun specs are built from (cluster) analysis templates by the
// templates subpackage, for the Rollout and Experiment controllers.
package analysis

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/serin-dev/serin/pkg/analysis/plan"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/metric"
)

// Options are the Reconciler's dependencies.
type Options struct {
	// Client writes AnalysisRun status and deletes expired runs.
	Client versioned.Interface
	// Lister reads AnalysisRuns from the informer cache.
	Lister rolloutlisters.AnalysisRunLister
	// Providers builds the provider of each metric.
	Providers metric.Factory
	// Secrets reads the Secrets that arguments refer to, at measurement time.
	Secrets metric.SecretGetter
	// Recorder records Metric<Phase> and AnalysisRun<Phase> events.
	Recorder record.EventRecorder
	// Clock stamps measurements and decides what is due; the real clock by
	// default.
	Clock clock.PassiveClock
}

// Reconciler reconciles one AnalysisRun at a time.
type Reconciler struct {
	o Options
	// written remembers, per run, the resourceVersion a status patch was
	// made from. Until the cache moves past it, the cache does not hold our
	// own write yet, and reconciling would measure again.
	written controller.Writes
	// status writes the run's status and records the write in written.
	status controller.StatusPatcher[*v1alpha1.AnalysisRun]
}

// NewReconciler returns a Reconciler.
func NewReconciler(o Options) *Reconciler {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	r := &Reconciler{o: o, written: controller.Writes{Clock: o.Clock}}
	r.status = statusPatcher(o.Client, &r.written)
	return r
}

var _ controller.Reconciler = (*Reconciler)(nil)

// Reconcile takes the measurements of one AnalysisRun that are due and
// records their outcome.
func (r *Reconciler) Reconcile(ctx context.Context, key cache.ObjectName) (controller.Result, error) {
	run, act, res, err := controller.Current(ctx, key, &r.written, func(namespace, name string) (*v1alpha1.AnalysisRun, error) {
		return r.o.Lister.AnalysisRuns(namespace).Get(name)
	})
	if !act {
		return res, err
	}
	st := plan.State{Run: run, Now: r.o.Clock.Now()}
	sched := plan.Schedule(st)
	measured, err := r.measure(ctx, run, sched, st.Now)
	if err != nil {
		return controller.Result{}, err
	}
	p := plan.Compute(st, sched, measured)
	if err := r.apply(ctx, run, p); err != nil {
		if errors.Is(err, errRunGone) {
			klog.FromContext(ctx).V(2).Info("AnalysisRun deleted while reconciling; dropping the key")
			r.written.Forget(key)
			return controller.Result{}, nil
		}
		if apierrors.IsConflict(err) {
			// The run changed after our cache saw it (spec.terminate, for
			// example); its update event brings it back with the change.
			klog.FromContext(ctx).V(2).Info("AnalysisRun changed while measuring; waiting for the newer version")
			return controller.Result{}, nil
		}
		return controller.Result{}, err
	}
	return controller.Result{RequeueAfter: p.RequeueAfter}, nil
}

// Package experiment reconciles Experiments: it reads an Experiment and the
// ReplicaSets, Services and AnalysisRuns it owns from the informer caches,
// asks the pure plan package what to create, scale, delete and terminate and
// what the status becomes, makes those writes, and writes the status with a
// single merge patch on the Experiment (which has no status subresource),
// only when it changed.
package experiment

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/experiment/plan"
)

// Options are the Reconciler's dependencies. The three owned-object
// indexers must have the controller.OwnerIndex.
type Options struct {
	// KubeClient writes ReplicaSets and Services.
	KubeClient kubernetes.Interface
	// Client writes Experiment status and AnalysisRuns.
	Client versioned.Interface
	// Lister reads Experiments from the informer cache.
	Lister rolloutlisters.ExperimentLister
	// ReplicaSets, Services and AnalysisRuns find what an Experiment owns.
	ReplicaSets  cache.Indexer
	Services     cache.Indexer
	AnalysisRuns cache.Indexer
	// ReplicaSetLister and ServiceLister find objects by name, the
	// Experiment's or not, when a name is taken.
	ReplicaSetLister appslisters.ReplicaSetLister
	ServiceLister    corelisters.ServiceLister
	// AnalysisTemplateLister reads templates; ClusterAnalysisTemplateLister
	// is nil when the controller is namespaced.
	AnalysisTemplateLister        rolloutlisters.AnalysisTemplateLister
	ClusterAnalysisTemplateLister rolloutlisters.ClusterAnalysisTemplateLister
	// Recorder records the Experiment's events.
	Recorder record.EventRecorder
	// Clock is the real clock by default.
	Clock clock.PassiveClock
}

// Reconciler reconciles one Experiment at a time.
type Reconciler struct {
	o Options
	// written remembers the resourceVersions our status patches were made
	// from: until the cache moves past them, it does not show our own
	// write, and reconciling would create the same objects again.
	written controller.Writes
	status  controller.StatusPatcher[*v1alpha1.Experiment]
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

// Reconcile brings one Experiment one step further.
func (r *Reconciler) Reconcile(ctx context.Context, key cache.ObjectName) (controller.Result, error) {
	ex, act, res, err := controller.Current(ctx, key, &r.written, func(namespace, name string) (*v1alpha1.Experiment, error) {
		return r.o.Lister.Experiments(namespace).Get(name)
	})
	if !act {
		return res, err
	}
	st, err := r.observe(ctx, ex)
	if err != nil {
		return controller.Result{}, err
	}
	p, err := r.apply(ctx, ex, st, plan.Compute(st))
	switch {
	case errors.Is(err, errExperimentGone):
		klog.FromContext(ctx).V(2).Info("Experiment deleted while reconciling; dropping the key")
		r.written.Forget(key)
		return controller.Result{}, nil
	case apierrors.IsConflict(err):
		// The Experiment (spec.terminate, retry experiment) or one of its
		// ReplicaSets changed after our cache saw it; the change's event
		// brings the Experiment back.
		klog.FromContext(ctx).V(2).Info("An object changed while reconciling; waiting for the newer version", "err", err.Error())
		return controller.Result{}, nil
	case err != nil:
		return controller.Result{}, err
	}
	return controller.Result{RequeueAfter: p.RequeueAfter}, nil
}

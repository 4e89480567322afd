// Package rollout reconciles Rollouts: it observes a Rollout and what it owns
// through listers, asks the pure plan package what to do, and applies the plan
// with as few API requests as the plan needs: none for a converged Rollout.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// conflictRetry is when a Rollout whose write conflicted is looked at again
// if no newer version of what it wrote has arrived by then.
const conflictRetry = 5 * time.Second

// Options are the Reconciler's dependencies.
type Options struct {
	KubeClient       kubernetes.Interface
	RolloutClient    versioned.Interface
	RolloutLister    rolloutlisters.RolloutLister
	ReplicaSetLister appslisters.ReplicaSetLister
	ServiceLister    corelisters.ServiceLister
	// Owned, when set, finds ReplicaSets and AnalysisRuns by their
	// controller's UID (an index named controller.OwnerIndex on their
	// informers) instead of listing the Rollout's namespace.
	OwnedReplicaSets  cache.Indexer
	OwnedAnalysisRuns cache.Indexer
	// OwnedExperiments finds the Experiments of a Rollout by its UID (an
	// index named controller.OwnerIndex). Optional: without it a Rollout
	// sees no Experiment and experiment steps wait.
	OwnedExperiments cache.Indexer
	// PodLister lists pods carrying the rollouts-pod-template-hash label
	// (for spec.restartAt). Optional: without it restarts wait.
	PodLister corelisters.PodLister
	// AnalysisRunLister, AnalysisTemplateLister and
	// ClusterAnalysisTemplateLister serve the Rollout's analyses. The
	// cluster lister may be nil (namespaced mode).
	AnalysisRunLister             rolloutlisters.AnalysisRunLister
	AnalysisTemplateLister        rolloutlisters.AnalysisTemplateLister
	ClusterAnalysisTemplateLister rolloutlisters.ClusterAnalysisTemplateLister
	// Objects serves spec.workloadRef and traffic-routing objects, and
	// Dynamic writes the latter. Optional: without them such Rollouts wait.
	Objects *ObjectCache
	Dynamic dynamic.Interface
	// RoutersFor returns the traffic routers a Rollout's spec enables, and
	// UnsupportedRouters the providers it configures that none handles.
	RoutersFor         func(*v1alpha1.Rollout) []trafficrouting.Router
	UnsupportedRouters func(*v1alpha1.Rollout) []string
	// RouterPlugins makes the calls the plan orders to traffic-router
	// plugins, and answers VerifyWeight. Optional: without it Rollouts
	// routed by a plugin fail to apply.
	RouterPlugins trafficrouting.Plugins
	// StepPlugins makes step plugin calls. Optional: without it a plugin
	// step reports a ReconciliationError and waits.
	StepPlugins StepPlugins
	// VerifyRetryInterval is how soon a split a plugin or the ALB has not
	// verified is looked at again (0: plan.DefaultVerifyRetryInterval).
	VerifyRetryInterval time.Duration
	// ELB, when set, turns ALB target group verification on
	// (--aws-verify-target-group).
	ELB ELB
	// TargetGroupBindings is the resource of the AWS Load Balancer
	// Controller's TargetGroupBindings (--aws-target-group-binding-api-version).
	TargetGroupBindings schema.GroupVersionResource
	Recorder            record.EventRecorder
	Clock               clock.PassiveClock
	// UpdateFinished, when set, is told of each update that ended (its
	// status.duration record) once the status that ends it is written:
	// once per update, as a failed write is redone by a later reconcile.
	UpdateFinished func(v1alpha1.RolloutDurationStatus)
}

// Reconciler reconciles one Rollout at a time.
type Reconciler struct {
	o Options
	// written tells when the cache has not caught up with our last write.
	written controller.Writes
	// status writes the Rollout's status and records the write in written.
	status controller.StatusPatcher[*v1alpha1.Rollout]
}

// NewReconciler returns a Reconciler.
func NewReconciler(o Options) *Reconciler {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	r := &Reconciler{o: o, written: controller.Writes{Clock: o.Clock}}
	r.status = statusPatcher(o.RolloutClient, &r.written)
	return r
}

// Reconcile brings one Rollout one step closer to what its spec asks.
func (r *Reconciler) Reconcile(ctx context.Context, key cache.ObjectName) (controller.Result, error) {
	ro, err := r.o.RolloutLister.Rollouts(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		r.written.Forget(key)
		return controller.Result{}, nil // deleted: owned objects go with it
	}
	if err != nil {
		return controller.Result{}, err
	}
	if ro.DeletionTimestamp != nil {
		return controller.Result{}, nil
	}
	if behind, left := r.written.Behind(key, ro.ResourceVersion); behind {
		// Our last write has not reached the cache; its event will come. Come
		// back anyway once the guard expires, so that a timer that fired into
		// this skipped reconcile (a pause ending) is never lost.
		klog.FromContext(ctx).V(4).Info("cache behind our last write, waiting", "rollout", key)
		return controller.Result{RequeueAfter: left}, nil
	}
	state, err := r.observe(ro)
	if err == errNotSynced {
		// The workload informer just started; its first list enqueues the
		// Rollout again, and this covers a workload that does not exist.
		return controller.Result{RequeueAfter: time.Second}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	r.verifyWeights(ctx, &state)
	r.observeALB(ctx, ro, &state)
	r.observeTargets(ctx, ro, &state)
	r.callStepPlugins(ctx, &state)
	p := plan.Settle(state)
	if err := r.apply(ctx, ro, p); err != nil {
		if errors.Is(err, errRolloutGone) {
			// Deleted while we worked: nothing is left to do for this key. If
			// it comes back, its add event enqueues it again.
			klog.FromContext(ctx).V(2).Info("Rollout deleted while reconciling; dropping the key", "rollout", key)
			r.written.Forget(key)
			return controller.Result{}, nil
		}
		if apierrors.IsConflict(err) {
			// Someone wrote the object after our cache saw it; the informer
			// brings the newer version and that enqueues the Rollout again.
			klog.FromContext(ctx).V(2).Info("conflict, waiting for the newer version", "rollout", key, "err", err.Error())
			// The newer version's event normally comes first; this is the
			// safety net for a conflict no event will follow.
			return controller.Result{RequeueAfter: conflictRetry}, nil
		}
		return controller.Result{}, err
	}
	return controller.Result{RequeueAfter: p.RequeueAfter}, nil
}

// observe reads, from the listers only, what the plan needs.
func (r *Reconciler) observe(ro *v1alpha1.Rollout) (plan.State, error) {
	st := plan.State{Rollout: ro, Now: r.o.Clock.Now(), Services: map[string]*corev1.Service{}}
	if r.o.OwnedReplicaSets != nil {
		owned, err := r.o.OwnedReplicaSets.ByIndex(controller.OwnerIndex, string(ro.UID))
		if err != nil {
			return st, err
		}
		for _, o := range owned {
			st.ReplicaSets = append(st.ReplicaSets, o.(*appsv1.ReplicaSet))
		}
	} else {
		rss, err := r.o.ReplicaSetLister.ReplicaSets(ro.Namespace).List(labels.Everything())
		if err != nil {
			return st, err
		}
		for _, rs := range rss {
			if ref := metav1.GetControllerOf(rs); ref != nil && ref.UID == ro.UID {
				st.ReplicaSets = append(st.ReplicaSets, rs)
			}
		}
	}
	if r.o.PodLister != nil && needsPods(ro) {
		pods, err := r.o.PodLister.Pods(ro.Namespace).List(labels.Everything())
		if err != nil {
			return st, err
		}
		st.Pods = pods
	}
	if err := r.observeRouting(ro, &st); err != nil {
		return st, err
	}
	if gvr, ok := plan.WorkloadResource(ro.Spec.WorkloadRef); ok && r.o.Objects != nil {
		w, err := r.o.Objects.Get(gvr, ro.Namespace, ro.Spec.WorkloadRef.Name)
		if err != nil {
			return st, err
		}
		st.Workload = w
	}
	if err := r.observeAnalysis(ro, &st); err != nil {
		return st, err
	}
	if err := r.observeExperiments(ro, &st); err != nil {
		return st, err
	}
	return st, r.observeServices(ro, &st)
}

// deployments is the resource of the Deployments a Service may already feed.
var deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

// observeServices reads the Services the Rollout names and, while one of
// them is not yet marked as the Rollout's, the namespace's Deployments, so
// the plan can refuse to take a Service over from a running Deployment.
func (r *Reconciler) observeServices(ro *v1alpha1.Rollout, st *plan.State) error {
	takeover := false
	for _, name := range ServiceNames(ro) {
		svc, err := r.o.ServiceLister.Services(ro.Namespace).Get(name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		st.Services[name] = svc
		takeover = takeover || svc.Annotations[v1alpha1.AnnotationManagedByRollouts] != ro.Name
	}
	if !takeover || r.o.Objects == nil {
		return nil
	}
	objs, err := r.o.Objects.List(deployments, ro.Namespace)
	if err != nil {
		return err
	}
	for _, u := range objs {
		d := &appsv1.Deployment{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d); err != nil {
			continue // a Deployment the API server accepted always converts
		}
		st.Deployments = append(st.Deployments, d)
	}
	return nil
}

// ServiceNames are the Services a Rollout names.
func ServiceNames(ro *v1alpha1.Rollout) []string {
	var names []string
	add := func(n string) {
		if n != "" {
			names = append(names, n)
		}
	}
	if c := ro.Spec.Strategy.Canary; c != nil {
		add(c.StableService)
		add(c.CanaryService)
		if c.PingPong != nil {
			add(c.PingPong.PingService)
			add(c.PingPong.PongService)
		}
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		add(bg.ActiveService)
		add(bg.PreviewService)
	}
	return names
}

// needsPods tells whether a reconcile looks at pods: for spec.restartAt and
// for ephemeral pod metadata.
func needsPods(ro *v1alpha1.Rollout) bool {
	if ro.Spec.RestartAt != nil {
		return true
	}
	if c := ro.Spec.Strategy.Canary; c != nil {
		return c.CanaryMetadata != nil || c.StableMetadata != nil
	}
	bg := ro.Spec.Strategy.BlueGreen
	return bg != nil && (bg.PreviewMetadata != nil || bg.ActiveMetadata != nil)
}

// observeAnalysis reads the Rollout's AnalysisRuns and resolves the
// templates of every analysis its spec declares.
func (r *Reconciler) observeAnalysis(ro *v1alpha1.Rollout, st *plan.State) error {
	analyses := plan.Analyses(ro)
	if r.o.OwnedAnalysisRuns != nil {
		owned, err := r.o.OwnedAnalysisRuns.ByIndex(controller.OwnerIndex, string(ro.UID))
		if err != nil {
			return err
		}
		for _, o := range owned {
			st.AnalysisRuns = append(st.AnalysisRuns, o.(*v1alpha1.AnalysisRun))
		}
	} else if r.o.AnalysisRunLister != nil {
		runs, err := r.o.AnalysisRunLister.AnalysisRuns(ro.Namespace).List(labels.Everything())
		if err != nil {
			return err
		}
		for _, run := range runs {
			if ref := metav1.GetControllerOf(run); ref != nil && ref.UID == ro.UID {
				st.AnalysisRuns = append(st.AnalysisRuns, run)
			}
		}
	}
	if len(analyses) == 0 {
		return nil
	}
	st.Templates = map[string]templates.Set{}
	st.TemplateErrors = map[string]error{}
	getter := templateGetter{r.o.AnalysisTemplateLister, r.o.ClusterAnalysisTemplateLister}
	for key, a := range analyses {
		set, err := templates.Resolve(ro.Namespace, a.Templates, getter)
		if err == nil {
			_, err = templates.Flatten(set)
		}
		if err != nil {
			st.TemplateErrors[key] = err
			continue
		}
		st.Templates[key] = set
	}
	return nil
}

// templateGetter finds analysis templates in the informer caches.
type templateGetter struct {
	namespaced rolloutlisters.AnalysisTemplateLister
	cluster    rolloutlisters.ClusterAnalysisTemplateLister
}

func (g templateGetter) AnalysisTemplate(namespace, name string) (*v1alpha1.AnalysisTemplate, error) {
	if g.namespaced == nil {
		return nil, fmt.Errorf("analysis templates are not watched")
	}
	return g.namespaced.AnalysisTemplates(namespace).Get(name)
}

func (g templateGetter) ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error) {
	if g.cluster == nil {
		return nil, fmt.Errorf("ClusterAnalysisTemplates are not watched in namespaced mode")
	}
	return g.cluster.Get(name)
}

// observeRouting reads, from the object cache, the traffic-routing objects
// the Rollout's routers reference.
func (r *Reconciler) observeRouting(ro *v1alpha1.Rollout, st *plan.State) error {
	if r.o.UnsupportedRouters != nil {
		st.UnsupportedRouters = r.o.UnsupportedRouters(ro)
	}
	if r.o.RoutersFor == nil || ro.Spec.Strategy.Canary == nil || ro.Spec.Strategy.Canary.TrafficRouting == nil {
		return nil
	}
	st.Routers = r.o.RoutersFor(ro)
	st.RouterObjects = map[trafficrouting.Ref]*unstructured.Unstructured{}
	if r.o.Objects == nil {
		return nil
	}
	for _, router := range st.Routers {
		if err := r.observeRouter(ro, router, st); err != nil {
			return err
		}
	}
	return nil
}

package main

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appslisters "k8s.io/client-go/listers/apps/v1"

	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/rollout"
	"github.com/serin-dev/serin/pkg/trafficrouting/routers"
)

func init() {
	register(controllerDef{name: "Rollouts", build: newRolloutController})
}

// newRolloutController wires the Rollout reconciler: a Rollout is
// reconciled when it changes, when a ReplicaSet it controls changes, and
// when a Service it references changes.
func newRolloutController(d *deps) (*controller.Controller, error) {
	rollouts := d.informers.argo.Argoproj().V1alpha1().Rollouts()
	replicaSets := d.informers.replicaSets.Apps().V1().ReplicaSets()
	services := d.informers.kube.Core().V1().Services()
	// Pods share the ReplicaSets' label-filtered factory: only pods of
	// Rollout (and Experiment) revisions are cached, without their spec.
	pods := d.informers.replicaSets.Core().V1().Pods()

	if err := rollouts.Informer().AddIndexers(cache.Indexers{
		rollout.ServicesIndex:  rollout.ServicesIndexFunc,
		rollout.TemplatesIndex: rollout.TemplatesIndexFunc,
		rollout.WorkloadsIndex: rollout.WorkloadsIndexFunc,
		rollout.RoutersIndex:   rollout.RoutersIndexFunc(routers.ForRollout),
	}); err != nil {
		return nil, err
	}
	analysisRuns := d.informers.argo.Argoproj().V1alpha1().AnalysisRuns()
	analysisTemplates := d.informers.argo.Argoproj().V1alpha1().AnalysisTemplates()
	// What a Rollout owns is found by its UID, not by listing its namespace.
	for _, inf := range []cache.SharedIndexInformer{replicaSets.Informer(), analysisRuns.Informer()} {
		if err := inf.AddIndexers(cache.Indexers{controller.OwnerIndex: controller.OwnerIndexFunc}); err != nil {
			return nil, err
		}
	}
	lister := rollouts.Lister()
	opts := rollout.Options{
		KubeClient:       d.kube,
		RolloutClient:    d.rollouts,
		RolloutLister:    lister,
		ReplicaSetLister: replicaSets.Lister(),
		ServiceLister:    services.Lister(),
		PodLister:        pods.Lister(),
		Recorder:         d.recorder,

		AnalysisRunLister:      analysisRuns.Lister(),
		OwnedReplicaSets:       replicaSets.Informer().GetIndexer(),
		OwnedAnalysisRuns:      analysisRuns.Informer().GetIndexer(),
		AnalysisTemplateLister: analysisTemplates.Lister(),
	}
	if !d.opts.namespaced {
		opts.ClusterAnalysisTemplateLister = d.informers.argo.Argoproj().V1alpha1().ClusterAnalysisTemplates().Lister()
	}
	// Workloads named by spec.workloadRef and traffic-routing objects are
	// cached only once referenced; a change to one re-runs the Rollouts that
	// use it. The concrete routers are chosen here, and only here.
	routerConfig := d.opts.routerConfig()
	opts.RoutersFor = routerConfig.ForRollout
	opts.UnsupportedRouters = routers.Unsupported
	enqueue := &lateEnqueuer{}
	if d.dynamic != nil {
		indexer := rollouts.Informer().GetIndexer()
		opts.Dynamic = d.dynamic
		opts.Objects = rollout.NewObjectCache(d.dynamic, d.watchNamespace, 0,
			func(gvr schema.GroupVersionResource) cache.ResourceEventHandler {
				return controller.HandleMapped(enqueue, referencingRollouts(indexer, gvr, routerConfig))
			}, d.ctx.Done())
	}
	r := rollout.NewReconciler(opts)
	c := controller.New("Rollouts", r, controller.Options{
		Workers:         d.opts.rolloutThreads,
		MetricsProvider: d.metrics.WorkqueueMetricsProvider(),
		Observe: func(key cache.ObjectName, took time.Duration, err error) {
			// A reconcile that found its Rollout gone records nothing, so
			// deleted Rollouts leave no series behind.
			if _, getErr := lister.Rollouts(key.Namespace).Get(key.Name); getErr == nil {
				d.metrics.ObserveRolloutReconcile(key.Namespace, key.Name, took, err)
			}
		},
	})

	enqueue.c = c
	for _, h := range []struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandler
	}{
		{rollouts.Informer(), controller.HandleAll(c)},
		{rollouts.Informer(), d.forgetOnDelete(d.metrics.ForgetRollout)},
		{replicaSets.Informer(), controller.HandleOwner(c, "Rollout", v1alpha1.GroupName)},
		{services.Informer(), controller.HandleMapped(c, controller.ByIndex(rollouts.Informer().GetIndexer(), rollout.ServicesIndex))},
		{pods.Informer(), controller.HandleMapped(c, podOwnerRollout(replicaSets.Lister()))},
		{analysisRuns.Informer(), controller.HandleOwner(c, v1alpha1.RolloutKind, v1alpha1.GroupName)},
		{analysisTemplates.Informer(), controller.HandleMapped(c, controller.ByIndex(rollouts.Informer().GetIndexer(), rollout.TemplatesIndex))},
	} {
		if _, err := h.informer.AddEventHandler(h.handler); err != nil {
			return nil, err
		}
	}
	if !d.opts.namespaced {
		clusterTemplates := d.informers.argo.Argoproj().V1alpha1().ClusterAnalysisTemplates().Informer()
		byCluster := controller.ByIndex(rollouts.Informer().GetIndexer(), rollout.TemplatesIndex)
		handler := controller.HandleMapped(c, func(obj any) []cache.ObjectName {
			if t, ok := obj.(*v1alpha1.ClusterAnalysisTemplate); ok {
				// Cluster templates are indexed as "cluster/<name>".
				return byCluster(&v1alpha1.ClusterAnalysisTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: "cluster", Name: t.Name}})
			}
			return nil
		})
		if _, err := clusterTemplates.AddEventHandler(handler); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// podOwnerRollout maps a pod to the Rollout that controls its ReplicaSet.
func podOwnerRollout(rsLister appslisters.ReplicaSetLister) func(obj any) []cache.ObjectName {
	return func(obj any) []cache.ObjectName {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return nil
		}
		ref := metav1.GetControllerOf(pod)
		if ref == nil || ref.Kind != "ReplicaSet" {
			return nil
		}
		rs, err := rsLister.ReplicaSets(pod.Namespace).Get(ref.Name)
		if err != nil {
			return nil
		}
		owner := metav1.GetControllerOf(rs)
		if owner == nil || owner.Kind != v1alpha1.RolloutKind {
			return nil
		}
		return []cache.ObjectName{{Namespace: pod.Namespace, Name: owner.Name}}
	}
}

// lateEnqueuer forwards to a controller created after the handler that uses it.
type lateEnqueuer struct{ c *controller.Controller }

func (l *lateEnqueuer) EnqueueKey(key cache.ObjectName) {
	if l.c != nil {
		l.c.EnqueueKey(key)
	}
}

// referencingRollouts maps a cached workload or traffic-routing object of
// resource gvr to the Rollouts that use it, through the WorkloadsIndex and
// RoutersIndex. A change the routers ignore (an Ingress of a class that is
// not nginx's) re-runs nothing.
func referencingRollouts(indexer cache.Indexer, gvr schema.GroupVersionResource, routing routers.Config) func(obj any) []cache.ObjectName {
	return func(obj any) []cache.ObjectName {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return nil
		}
		if !routing.ChangeMatters(gvr, u) {
			return nil
		}
		key := rollout.ObjectKey(gvr.Resource, u.GetNamespace(), u.GetName())
		var out []cache.ObjectName
		for _, index := range []string{rollout.WorkloadsIndex, rollout.RoutersIndex} {
			found, err := indexer.ByIndex(index, key)
			if err != nil {
				continue
			}
			for _, f := range found {
				if name, err := cache.ObjectToName(f); err == nil {
					out = append(out, name)
				}
			}
		}
		return out
	}
}

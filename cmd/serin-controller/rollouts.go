package main

import (
	"context"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"

	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutinformers "github.com/serin-dev/serin/pkg/client/informers/externalversions/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/plugin/builtin"
	"github.com/serin-dev/serin/pkg/rollout"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting/routers"
)

func init() {
	register(controllerDef{name: "Rollouts", build: newRolloutController})
}

// newRolloutController wires the Rollout reconciler: a Rollout is
// reconciled when it changes, when a ReplicaSet, AnalysisRun or Experiment
// it controls changes, and when a Service it references changes.
func newRolloutController(d *deps) (*controller.Controller, error) {
	in := rolloutInformers(d)
	// The concrete routers are chosen here, and only here, from the flags.
	routerConfig := d.opts.routerConfig()
	// Plugins are resolved here too: Serin's built-in ones, then those of
	// argo-rollouts-config.
	pl := plugins{host: d.plugins, builtin: builtin.Default()}
	routerConfig.PluginConfigured = pl.routerConfigured
	logger := klog.Background()
	if d.ctx != nil {
		logger = klog.FromContext(d.ctx)
	}
	logGatewayAPIRouter(logger, pl)
	if err := addRolloutIndexes(in, routerConfig); err != nil {
		return nil, err
	}
	opts := rolloutOptions(d, in)
	opts.RoutersFor = routerConfig.ForRollout
	opts.UnsupportedRouters = routerConfig.Unsupported
	opts.RouterPlugins = routerPlugins{pl}
	opts.StepPlugins = stepPlugins{pl}
	opts.VerifyRetryInterval = verifyRetryInterval(os.LookupEnv, logger)
	if err := albVerification(context.Background(), d.opts, &opts); err != nil {
		return nil, err
	}
	// Each update that ends is observed once its status is written.
	opts.UpdateFinished = d.metrics.ObserveRolloutDuration
	// Workloads named by spec.workloadRef and traffic-routing objects are
	// cached only once referenced; a change to one re-runs the Rollouts that
	// use it.
	enqueue := &lateEnqueuer{}
	if d.dynamic != nil {
		indexer := in.rollouts.Informer().GetIndexer()
		opts.Dynamic = d.dynamic
		opts.Objects = d.objects()
		d.onObjectChange(func(gvr schema.GroupVersionResource) cache.ResourceEventHandler {
			return controller.HandleMapped(enqueue, referencingRollouts(indexer, gvr, routerConfig, in.services.Lister()))
		})
	}
	lister := opts.RolloutLister
	c := controller.New("Rollouts", rollout.NewReconciler(opts), controller.Options{
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
	return c, addRolloutHandlers(d, in, c)
}

// rolloutInformerSet are the caches the Rollout controller reads.
type rolloutInformerSet struct {
	rollouts          rolloutinformers.RolloutInformer
	replicaSets       appsinformers.ReplicaSetInformer
	services          coreinformers.ServiceInformer
	pods              coreinformers.PodInformer
	analysisRuns      rolloutinformers.AnalysisRunInformer
	analysisTemplates rolloutinformers.AnalysisTemplateInformer
	experiments       rolloutinformers.ExperimentInformer
}

func rolloutInformers(d *deps) rolloutInformerSet {
	v1 := d.informers.argo.Argoproj().V1alpha1()
	return rolloutInformerSet{
		rollouts:    v1.Rollouts(),
		replicaSets: d.informers.replicaSets.Apps().V1().ReplicaSets(),
		services:    d.informers.kube.Core().V1().Services(),
		// Pods share the ReplicaSets' label-filtered factory: only pods of
		// Rollout (and Experiment) revisions are cached, without their spec.
		pods:              d.informers.replicaSets.Core().V1().Pods(),
		analysisRuns:      v1.AnalysisRuns(),
		analysisTemplates: v1.AnalysisTemplates(),
		experiments:       v1.Experiments(),
	}
}

// addRolloutIndexes indexes Rollouts by what they reference, with the same
// router configuration the reconciler uses, and what a Rollout owns by its
// UID, so that nothing is found by listing a namespace.
func addRolloutIndexes(in rolloutInformerSet, routerConfig routers.Config) error {
	if err := ensureIndexes(in.rollouts.Informer(), cache.Indexers{
		rollout.ServicesIndex:  rollout.ServicesIndexFunc,
		rollout.TemplatesIndex: rollout.TemplatesIndexFunc,
		rollout.WorkloadsIndex: rollout.WorkloadsIndexFunc,
		rollout.RoutersIndex:   rollout.RoutersIndexFunc(routerConfig.ForRollout),
	}); err != nil {
		return err
	}
	for _, inf := range []cache.SharedIndexInformer{in.replicaSets.Informer(), in.analysisRuns.Informer(), in.experiments.Informer()} {
		if err := ensureIndexes(inf, cache.Indexers{controller.OwnerIndex: controller.OwnerIndexFunc}); err != nil {
			return err
		}
	}
	return nil
}

func rolloutOptions(d *deps, in rolloutInformerSet) rollout.Options {
	opts := rollout.Options{
		KubeClient:       d.kube,
		RolloutClient:    d.rollouts,
		RolloutLister:    in.rollouts.Lister(),
		ReplicaSetLister: in.replicaSets.Lister(),
		ServiceLister:    in.services.Lister(),
		PodLister:        in.pods.Lister(),
		Recorder:         d.recorder,

		AnalysisRunLister:      in.analysisRuns.Lister(),
		OwnedReplicaSets:       in.replicaSets.Informer().GetIndexer(),
		OwnedAnalysisRuns:      in.analysisRuns.Informer().GetIndexer(),
		OwnedExperiments:       in.experiments.Informer().GetIndexer(),
		AnalysisTemplateLister: in.analysisTemplates.Lister(),
	}
	if !d.opts.namespaced {
		opts.ClusterAnalysisTemplateLister = d.informers.argo.Argoproj().V1alpha1().ClusterAnalysisTemplates().Lister()
	}
	return opts
}

// addRolloutHandlers enqueues a Rollout when it, or anything it owns or
// references, changes.
func addRolloutHandlers(d *deps, in rolloutInformerSet, c *controller.Controller) error {
	byIndex := func(index string) cache.ResourceEventHandler {
		return controller.HandleMapped(c, controller.ByIndex(in.rollouts.Informer().GetIndexer(), index))
	}
	for _, h := range []struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandler
	}{
		{in.rollouts.Informer(), controller.HandleAll(c)},
		{in.rollouts.Informer(), d.forgetOnDelete(d.metrics.ForgetRollout)},
		{in.replicaSets.Informer(), controller.HandleOwner(c, "Rollout", v1alpha1.GroupName)},
		{in.services.Informer(), byIndex(rollout.ServicesIndex)},
		{in.pods.Informer(), controller.HandleMapped(c, podOwnerRollout(in.replicaSets.Lister()))},
		{in.analysisRuns.Informer(), controller.HandleOwner(c, v1alpha1.RolloutKind, v1alpha1.GroupName)},
		{in.experiments.Informer(), controller.HandleOwner(c, v1alpha1.RolloutKind, v1alpha1.GroupName)},
		{in.analysisTemplates.Informer(), byIndex(rollout.TemplatesIndex)},
	} {
		if _, err := h.informer.AddEventHandler(h.handler); err != nil {
			return err
		}
	}
	if d.opts.namespaced {
		return nil
	}
	clusterTemplates := d.informers.argo.Argoproj().V1alpha1().ClusterAnalysisTemplates().Informer()
	byCluster := controller.ByIndex(in.rollouts.Informer().GetIndexer(), rollout.TemplatesIndex)
	_, err := clusterTemplates.AddEventHandler(controller.HandleMapped(c, func(obj any) []cache.ObjectName {
		if t, ok := obj.(*v1alpha1.ClusterAnalysisTemplate); ok {
			// Cluster templates are indexed as "cluster/<name>".
			return byCluster(&v1alpha1.ClusterAnalysisTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: "cluster", Name: t.Name}})
		}
		return nil
	}))
	return err
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
// RoutersIndex, and a Deployment also to the Rollouts naming a Service that
// selects its pods (which may have been refused for it). A change the
// routers ignore (an Ingress of a class that is not nginx's) re-runs nothing.
func referencingRollouts(indexer cache.Indexer, gvr schema.GroupVersionResource, routing routers.Config, services corelisters.ServiceLister) func(obj any) []cache.ObjectName {
	return func(obj any) []cache.ObjectName {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok || !routing.ChangeMatters(gvr, u) {
			return nil
		}
		key := rollout.ObjectKey(gvr.Resource, u.GetNamespace(), u.GetName())
		// A router that selects objects by label is indexed under the
		// namespace's key with no name.
		anyName := rollout.ObjectKey(gvr.Resource, u.GetNamespace(), "")
		lookups := [][2]string{{rollout.WorkloadsIndex, key}, {rollout.RoutersIndex, key}, {rollout.RoutersIndex, anyName}}
		if gvr.Group == "apps" && gvr.Resource == "deployments" && services != nil {
			for _, svc := range servicesSelecting(services, u) {
				lookups = append(lookups, [2]string{rollout.ServicesIndex, u.GetNamespace() + "/" + svc})
			}
		}
		var out []cache.ObjectName
		for _, l := range lookups {
			found, err := indexer.ByIndex(l[0], l[1])
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

// servicesSelecting names the cached Services in a Deployment's namespace
// that select its pods.
func servicesSelecting(services corelisters.ServiceLister, deployment *unstructured.Unstructured) []string {
	podLabels, _, _ := unstructured.NestedStringMap(deployment.Object, "spec", "template", "metadata", "labels")
	all, err := services.Services(deployment.GetNamespace()).List(labels.Everything())
	if err != nil {
		return nil
	}
	var names []string
	for _, svc := range all {
		if plan.SelectsPods(svc, podLabels) {
			names = append(names, svc.Name)
		}
	}
	return names
}

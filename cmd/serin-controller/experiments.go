package main

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/experiment"
)

func init() {
	register(controllerDef{name: "Experiments", build: newExperimentController})
}

// newExperimentController wires the Experiment reconciler: an Experiment is
// reconciled when it changes, when a ReplicaSet or Service it controls
// changes, and when one of its AnalysisRuns changes phase. Its ReplicaSets
// carry the pod-template-hash label, so the label-filtered ReplicaSet cache
// holds them; Services are cached unfiltered.
func newExperimentController(d *deps) (*controller.Controller, error) {
	v1 := d.informers.argo.Argoproj().V1alpha1()
	experiments, runs := v1.Experiments(), v1.AnalysisRuns()
	replicaSets := d.informers.replicaSets.Apps().V1().ReplicaSets()
	services := d.informers.kube.Core().V1().Services()
	for _, inf := range []cache.SharedIndexInformer{replicaSets.Informer(), services.Informer(), runs.Informer()} {
		if err := ensureIndexes(inf, cache.Indexers{controller.OwnerIndex: controller.OwnerIndexFunc}); err != nil {
			return nil, err
		}
	}
	opts := experiment.Options{
		KubeClient:             d.kube,
		Client:                 d.rollouts,
		Lister:                 experiments.Lister(),
		ReplicaSets:            replicaSets.Informer().GetIndexer(),
		Services:               services.Informer().GetIndexer(),
		AnalysisRuns:           runs.Informer().GetIndexer(),
		ReplicaSetLister:       replicaSets.Lister(),
		ServiceLister:          services.Lister(),
		AnalysisTemplateLister: v1.AnalysisTemplates().Lister(),
		Recorder:               d.recorder,
	}
	if !d.opts.namespaced {
		opts.ClusterAnalysisTemplateLister = v1.ClusterAnalysisTemplates().Lister()
	}
	lister := opts.Lister
	c := controller.New("Experiments", experiment.NewReconciler(opts), controller.Options{
		Workers:         d.opts.experimentThreads,
		MetricsProvider: d.metrics.WorkqueueMetricsProvider(),
		Observe: func(key cache.ObjectName, took time.Duration, err error) {
			if _, getErr := lister.Experiments(key.Namespace).Get(key.Name); getErr == nil {
				d.metrics.ObserveExperimentReconcile(key.Namespace, key.Name, took, err)
			}
		},
	})
	for _, h := range []struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandler
	}{
		{experiments.Informer(), controller.HandleAll(c)},
		{experiments.Informer(), d.forgetOnDelete(d.metrics.ForgetExperiment)},
		{replicaSets.Informer(), controller.HandleOwner(c, v1alpha1.ExperimentKind, v1alpha1.GroupName)},
		{services.Informer(), controller.HandleOwner(c, v1alpha1.ExperimentKind, v1alpha1.GroupName)},
		{runs.Informer(), runPhaseChanges(c)},
	} {
		if _, err := h.informer.AddEventHandler(h.handler); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// runPhaseChanges enqueues the Experiment that controls an AnalysisRun when
// the run appears, goes, or changes phase: the experiment follows only its
// runs' phases, not each measurement.
func runPhaseChanges(q controller.Enqueuer) cache.ResourceEventHandler {
	enqueue := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		run, ok := obj.(*v1alpha1.AnalysisRun)
		if !ok {
			return
		}
		ref := metav1.GetControllerOfNoCopy(run)
		if ref == nil || ref.Kind != v1alpha1.ExperimentKind {
			return
		}
		if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != v1alpha1.GroupName {
			return
		}
		q.EnqueueKey(cache.NewObjectName(run.Namespace, ref.Name))
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue,
		UpdateFunc: func(oldObj, newObj any) {
			o, okOld := oldObj.(*v1alpha1.AnalysisRun)
			n, okNew := newObj.(*v1alpha1.AnalysisRun)
			if okOld && okNew && o.Status.Phase == n.Status.Phase && o.Status.Message == n.Status.Message {
				return
			}
			enqueue(newObj)
		},
		DeleteFunc: enqueue,
	}
}

package main

import (
	"context"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/analysis"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
)

func init() {
	register(controllerDef{name: "AnalysisRuns", analysis: true, build: newAnalysisController})
}

// newAnalysisController wires the AnalysisRun reconciler: a run is
// reconciled when it changes, when a Job of one of its job metrics
// changes, and when its next measurement is due.
func newAnalysisController(d *deps) (*controller.Controller, error) {
	runs := d.informers.argo.Argoproj().V1alpha1().AnalysisRuns()
	jobs := d.informers.jobs.Batch().V1().Jobs()
	// The pods of metric Jobs carry the same label, so the same filtered
	// factory caches just them.
	pods := d.informers.jobs.Core().V1().Pods()
	lister := runs.Lister()
	secrets := liveSecrets{kube: d.kube}
	r := analysis.NewReconciler(analysis.Options{
		Client:    d.rollouts,
		Lister:    lister,
		Providers: newProviderFactory(d.kube, jobs.Lister(), pods.Lister(), secrets, d.ownNamespace, d.plugins),
		Secrets:   secrets,
		Recorder:  d.recorder,
	})
	c := controller.New("AnalysisRuns", r, controller.Options{
		Workers:         d.opts.analysisThreads,
		MetricsProvider: d.metrics.WorkqueueMetricsProvider(),
		Observe: func(key cache.ObjectName, took time.Duration, err error) {
			if _, getErr := lister.AnalysisRuns(key.Namespace).Get(key.Name); getErr == nil {
				d.metrics.ObserveAnalysisRunReconcile(key.Namespace, key.Name, took, err)
			}
		},
	})
	for _, h := range []struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandler
	}{
		{runs.Informer(), controller.HandleAll(c)},
		{runs.Informer(), d.forgetOnDelete(d.metrics.ForgetAnalysisRun)},
		{jobs.Informer(), controller.HandleMapped(c, jobRun)},
	} {
		if _, err := h.informer.AddEventHandler(h.handler); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// jobRun maps a metric Job to its AnalysisRun, through the annotations the
// job provider writes (which also work for Jobs created in another
// namespace, without an owner reference), or else its controller.
func jobRun(obj any) []cache.ObjectName {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return nil
	}
	namespace, name := job.Namespace, job.Annotations[v1alpha1.AnnotationAnalysisRunName]
	if ns := job.Annotations[v1alpha1.AnnotationAnalysisRunNamespace]; ns != "" {
		namespace = ns
	}
	if name == "" {
		ref := metav1.GetControllerOfNoCopy(job)
		if ref == nil || ref.Kind != "AnalysisRun" {
			return nil
		}
		name = ref.Name
	}
	return []cache.ObjectName{cache.NewObjectName(namespace, name)}
}

// liveSecrets reads Secrets with a GET each time: the controller's RBAC
// allows get on Secrets, not list or watch, and credentials are read only
// when a measurement needs them.
type liveSecrets struct {
	kube kubernetes.Interface
}

func (s liveSecrets) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return s.kube.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}

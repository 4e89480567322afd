package main

import (
	"os"

	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/metric/job"
)

func init() {
	register(controllerDef{name: "AnalysisJobs", analysis: true, build: newAnalysisJobController})
}

// newAnalysisJobController wires the collector of analysis Jobs left in
// ARGO_ROLLOUTS_ANALYSIS_JOB_NAMESPACE by deleted AnalysisRuns; there is
// none without that namespace, since Jobs in a run's own namespace are
// owned by the run. A Job is looked at when the cache first lists it (at
// start-up), at every resync and whenever it changes, and the Jobs of a
// run when the run is deleted.
func newAnalysisJobController(d *deps) (*controller.Controller, error) {
	namespace := os.Getenv(job.NamespaceEnv)
	if namespace == "" {
		return nil, nil
	}
	runs := d.informers.argo.Argoproj().V1alpha1().AnalysisRuns()
	jobs := d.informers.jobs.Batch().V1().Jobs()
	collector := job.NewOrphanCollector(job.OrphanOptions{
		Client:       d.kube,
		Jobs:         jobs.Lister(),
		Runs:         runs.Lister(),
		Namespace:    namespace,
		RunNamespace: d.watchNamespace,
		InstanceID:   d.opts.instanceID,
	})
	c := controller.New("AnalysisJobs", collector, controller.Options{MetricsProvider: d.metrics.WorkqueueMetricsProvider()})
	enqueueJudged := func(obj any) {
		if collector.Judges(obj) {
			c.Enqueue(obj)
		}
	}
	// Resyncs are wanted here: they are the periodic sweep.
	onJobs := cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueJudged,
		UpdateFunc: func(_, obj any) { enqueueJudged(obj) },
	}
	onRunDelete := cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		for _, key := range collector.JobsOfRun(obj) {
			c.EnqueueKey(key)
		}
	}}
	if _, err := jobs.Informer().AddEventHandler(onJobs); err != nil {
		return nil, err
	}
	if _, err := runs.Informer().AddEventHandler(onRunDelete); err != nil {
		return nil, err
	}
	return c, nil
}

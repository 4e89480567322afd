// Package controllermetrics exposes the controller's own Prometheus metrics
// (not the metric providers of analysis, which are pkg/metric) under the
// names, labels and value semantics of Argo Rollouts, so that existing
// dashboards and alerts keep working.
//
// Two kinds of metrics live here:
//
//   - State (rollout_info, analysis_run_info, experiment_info and their
//     replica, phase and metric gauges) is computed at scrape time by
//     collectors that read the informer caches through listers. Nothing is
//     tracked per object while reconciling, and a deleted object simply stops
//     being reported.
//   - Activity (reconcile histograms and error counters, rollout_events_total,
//     the durations of finished updates, workqueue_*) is recorded as it
//     happens through the methods of Metrics.
//
// Everything is registered in a private registry, never the global one.
package controllermetrics

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"
)

// reconcileBuckets are Argo Rollouts' buckets for every *_reconcile
// histogram, in seconds.
var reconcileBuckets = []float64{0.01, 0.15, 0.25, 0.5, 1}

var namespaceName = []string{"namespace", "name"}

// Metrics owns the registry and the metrics that are recorded as events
// happen. Its methods are safe for concurrent use.
type Metrics struct {
	registry *prometheus.Registry

	rolloutReconcile     reconcileMetrics
	rolloutEvents        *prometheus.CounterVec
	analysisRunReconcile reconcileMetrics
	experimentReconcile  reconcileMetrics

	durations updateDurations

	queues *workqueueMetrics

	k8sRequests *prometheus.CounterVec

	notifications notificationMetrics
}

// New returns Metrics with a fresh registry holding the Go runtime and
// process collectors, go_build_info{path,version,checksum} (the module
// version and checksum the binary was built from),
// argo_rollouts_controller_info{version}, the reconcile, event and update
// duration metrics and the workqueue metrics. The lister-backed collectors
// (NewRolloutCollector and friends) are added with MustRegister.
func New(version string) *Metrics {
	m := &Metrics{
		registry:         prometheus.NewRegistry(),
		rolloutReconcile: newReconcileMetrics("rollout", "a Rollout", "Rollout"),
		rolloutEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rollout_events_total",
			Help: "Number of Kubernetes events emitted on Rollouts, by event type and reason.",
		}, []string{"namespace", "name", "type", "reason"}),
		analysisRunReconcile: newReconcileMetrics("analysis_run", "an AnalysisRun", "AnalysisRun"),
		experimentReconcile:  newReconcileMetrics("experiment", "an Experiment", "Experiment"),
		durations:            newUpdateDurations(),
		queues:               newWorkqueueMetrics(),
		k8sRequests:          newK8sRequests(),
		notifications:        newNotificationMetrics(),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "argo_rollouts_controller_info",
		Help:        "Always 1; the version label is the running controller's version.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	info.Set(1)
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		info,
		m.rolloutReconcile.duration, m.rolloutReconcile.errors, m.rolloutEvents,
		m.analysisRunReconcile.duration, m.analysisRunReconcile.errors,
		m.experimentReconcile.duration, m.experimentReconcile.errors,
		m.k8sRequests,
	)
	m.registry.MustRegister(m.durations.collectors()...)
	m.registry.MustRegister(m.notifications.collectors()...)
	m.queues.register(m.registry)
	return m
}

// Registry is where every metric of this process is registered.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// MustRegister adds collectors to the registry and panics on a clash.
func (m *Metrics) MustRegister(cs ...prometheus.Collector) { m.registry.MustRegister(cs...) }

// Handler serves the registry in the Prometheus exposition formats. A
// collector error is logged and the rest is still served, so one odd object
// cannot blank the whole scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry:      m.registry,
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      scrapeErrorLog{},
	})
}

// scrapeErrorLog sends promhttp's errors to klog.
type scrapeErrorLog struct{}

func (scrapeErrorLog) Println(v ...any) {
	klog.Background().Error(nil, "Metrics scrape error", "detail", fmt.Sprint(v...))
}

// ObserveRolloutReconcile records one reconcile of a Rollout that exists:
// its duration, and an error if it failed.
func (m *Metrics) ObserveRolloutReconcile(namespace, name string, took time.Duration, err error) {
	m.rolloutReconcile.observe(namespace, name, took, err)
}

// ObserveAnalysisRunReconcile is ObserveRolloutReconcile for AnalysisRuns.
func (m *Metrics) ObserveAnalysisRunReconcile(namespace, name string, took time.Duration, err error) {
	m.analysisRunReconcile.observe(namespace, name, took, err)
}

// ObserveExperimentReconcile is ObserveRolloutReconcile for Experiments.
func (m *Metrics) ObserveExperimentReconcile(namespace, name string, took time.Duration, err error) {
	m.experimentReconcile.observe(namespace, name, took, err)
}

// CountRolloutEvent adds one to rollout_events_total. EventRecorder calls it
// for every event emitted on a Rollout.
func (m *Metrics) CountRolloutEvent(namespace, name, eventType, reason string) {
	m.rolloutEvents.WithLabelValues(namespace, name, eventType, reason).Inc()
}

// ForgetRollout deletes every series recorded for one Rollout. Call it some
// time after the Rollout is deleted, once its last values have been scraped,
// so that deleted objects do not pile up as series.
func (m *Metrics) ForgetRollout(namespace, name string) {
	m.rolloutReconcile.forget(namespace, name)
	m.rolloutEvents.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "name": name})
	m.notifications.forget(namespace, name)
}

// ForgetAnalysisRun is ForgetRollout for AnalysisRuns. Notification series
// go too: events on an AnalysisRun are notified (and timed) like a
// Rollout's, under its own name.
func (m *Metrics) ForgetAnalysisRun(namespace, name string) {
	m.analysisRunReconcile.forget(namespace, name)
	m.notifications.forget(namespace, name)
}

// ForgetExperiment is ForgetAnalysisRun for Experiments.
func (m *Metrics) ForgetExperiment(namespace, name string) {
	m.experimentReconcile.forget(namespace, name)
	m.notifications.forget(namespace, name)
}

// boolValue is 1 for true and 0 for false, the value of one-hot phase gauges.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

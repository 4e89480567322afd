package controllermetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// reconcileMetrics are one kind's <prefix>_reconcile histogram and
// <prefix>_reconcile_error counter, both by namespace and name.
type reconcileMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// newReconcileMetrics names the pair after prefix; one ("a Rollout") and
// kind ("Rollout") only word the help texts.
func newReconcileMetrics(prefix, one, kind string) reconcileMetrics {
	return reconcileMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    prefix + "_reconcile",
			Help:    "Time taken by each reconcile of " + one + ", in seconds.",
			Buckets: reconcileBuckets,
		}, namespaceName),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prefix + "_reconcile_error",
			Help: "Number of " + kind + " reconciles that ended in an error.",
		}, namespaceName),
	}
}

// observe records one reconcile: its duration, and an error if it failed.
func (r reconcileMetrics) observe(namespace, name string, took time.Duration, err error) {
	r.duration.WithLabelValues(namespace, name).Observe(took.Seconds())
	if err != nil {
		r.errors.WithLabelValues(namespace, name).Inc()
	}
}

// forget deletes the series of one object.
func (r reconcileMetrics) forget(namespace, name string) {
	l := prometheus.Labels{"namespace": namespace, "name": name}
	r.duration.Delete(l)
	r.errors.Delete(l)
}

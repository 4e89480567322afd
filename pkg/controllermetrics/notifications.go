package controllermetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// notificationMetrics are Argo Rollouts' notification metrics: one success
// or error count per message sent (or not) for an event, and how long the
// sending of one event's messages took.
type notificationMetrics struct {
	success *prometheus.CounterVec
	failed  *prometheus.CounterVec
	send    *prometheus.HistogramVec
}

func newNotificationMetrics() notificationMetrics {
	labels := append(append([]string{}, namespaceName...), "type", "reason")
	return notificationMetrics{
		success: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notification_send_success",
			Help: "Number of notifications sent, by the event that triggered them.",
		}, labels),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notification_send_error",
			Help: "Number of notifications that could not be sent, by the event that triggered them.",
		}, labels),
		send: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "notification_send",
			Help:    "Seconds spent sending the notifications of one event.",
			Buckets: reconcileBuckets,
		}, namespaceName),
	}
}

func (n notificationMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{n.success, n.failed, n.send}
}

func (n notificationMetrics) forget(namespace, name string) {
	labels := prometheus.Labels{"namespace": namespace, "name": name}
	n.success.DeletePartialMatch(labels)
	n.failed.DeletePartialMatch(labels)
	n.send.DeletePartialMatch(labels)
}

// NotificationSent adds one to notification_send_success for a message sent
// because of an event of this type and reason on the object.
func (m *Metrics) NotificationSent(namespace, name, eventType, reason string) {
	m.notifications.success.WithLabelValues(namespace, name, eventType, reason).Inc()
}

// NotificationFailed adds one to notification_send_error: a message for an
// event that could not be sent, or a notification configuration that could
// not be read.
func (m *Metrics) NotificationFailed(namespace, name, eventType, reason string) {
	m.notifications.failed.WithLabelValues(namespace, name, eventType, reason).Inc()
}

// ObserveNotificationSend records in notification_send how long sending the
// messages of one event on the object took.
func (m *Metrics) ObserveNotificationSend(namespace, name string, took time.Duration) {
	m.notifications.send.WithLabelValues(namespace, name).Observe(took.Seconds())
}

// Package metric defines how the AnalysisRun controller talks to metric
// providers (Prometheus, web, Job, Datadog, ...). The interface is owned here,
// by its consumer; each provider lives in its own package below and only
// cmd/serin-controller wires them together.
package metric

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Provider takes measurements of one metric. A provider fills a
// measurement's Phase, Value, Message, Metadata and, for a measurement that
// is still running, ResumeAt; the caller stamps StartedAt and FinishedAt from
// its own clock. A provider that cannot reach its backend returns
// AnalysisPhaseError with a message that names the backend and never
// contains a secret: an outage is never a success.
type Provider interface {
	// Type names the provider as it appears in the metric spec, such as "Prometheus".
	Type() string
	// Run starts a measurement. Synchronous providers finish it; asynchronous
	// ones (Job, Kayenta) return it Running, to be resumed.
	Run(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement
	// Resume checks on a Running measurement.
	Resume(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement
	// Terminate stops a Running measurement.
	Terminate(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement
	// GarbageCollect removes what the provider created for measurements
	// beyond the newest limit (Jobs, for example).
	GarbageCollect(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, limit int) error
	// Metadata is recorded in the metric's result, such as the resolved query.
	Metadata(m v1alpha1.Metric) map[string]string
}

// Factory returns the provider for a metric, or an error when the metric's
// provider is unknown or misconfigured.
type Factory interface {
	NewProvider(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) (Provider, error)
}

// SecretGetter reads one Secret by name. Providers read credentials at
// measurement time and must never log or report their values.
type SecretGetter interface {
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

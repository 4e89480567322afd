package analysis

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
)

// counting succeeds every time and counts the Metadata calls.
type counting struct {
	metric.Provider
	metadata *atomic.Int32
}

func (counting) Run(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric) v1alpha1.Measurement {
	return v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "1"}
}

func (c counting) Metadata(v1alpha1.Metric) map[string]string {
	c.metadata.Add(1)
	return map[string]string{"query": "q"}
}

// Metadata is asked for once, when the metric's result is created, as in
// Argo Rollouts: a plugin's GetMetadata is not called on every measurement.
func TestMetadataIsAskedForOnlyWhenTheResultIsCreated(t *testing.T) {
	f := newFixture(t, promRun("http://127.0.0.1:1"))
	var calls atomic.Int32
	f.factory.fn = func(v1alpha1.Metric) (metric.Provider, error) { return counting{metadata: &calls}, nil }
	for range 3 {
		f.reconcile()
		f.clock.Step(time.Minute)
	}
	r := f.run().Status.MetricResults[0]
	if r.Count != 3 || r.Metadata["query"] != "q" {
		t.Fatalf("result %+v", r)
	}
	if calls.Load() != 1 {
		t.Errorf("Metadata called %d times for 3 measurements, want 1", calls.Load())
	}
}

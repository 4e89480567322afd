package newrelic

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	srv := nerdGraph(t, 5, metrictest.Padded("[", `{"facet":"pod","count":1}`, ",", "]"))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(srv.URL+"/graphql", rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL}))
	metrictest.WantTooLarge(t, m, rec)
}

// A timeout above the ceiling is lowered to it, in the NRQL request too,
// and the measurement says so.
func TestTimeoutAboveTheCeilingIsLowered(t *testing.T) {
	for _, timeout := range []int64{3600, math.MaxInt64} {
		srv := nerdGraph(t, 300, `[{"successRate":99.5}]`)
		rec := &metrictest.Evaluator{}
		m := newTestProvider(srv.URL+"/graphql", rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL, Timeout: &timeout}))
		note := fmt.Sprintf("timeout %ds is above the 5m0s ceiling; 5m0s is used", timeout)
		if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Metadata[metric.TimeoutNoteKey] != note {
			t.Errorf("timeout %d: got %s %q %v", timeout, m.Phase, m.Message, m.Metadata)
		}
		srv.Close()
	}
}

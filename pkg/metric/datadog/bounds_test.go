package datadog

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	for version, body := range map[string]string{
		"v1": metrictest.Padded(`{"series":[{"pointlist":[`, `[1772366100000.0,0.5]`, ",", `]}]}`),
		"v2": metrictest.Padded(`{"data":{"attributes":{"columns":[{"name":"a","type":"number","values":[`, `0.5`, ",", `]}]}}}`),
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
		rec := &metrictest.Evaluator{}
		m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q", ApiVersion: version}))
		t.Run(version, func(t *testing.T) { metrictest.WantTooLarge(t, m, rec) })
		srv.Close()
	}
}

// A requestTimeout above the ceiling is lowered to it, and the measurement
// says so.
func TestRequestTimeoutAboveTheCeilingIsLowered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"series":[{"pointlist":[[1772366100000.0,0.05]]}]}`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q", RequestTimeout: "10h"}))
	if note := "timeout 10h0m0s is above the 5m0s ceiling; 5m0s is used"; m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Metadata[metric.TimeoutNoteKey] != note {
		t.Errorf("got %s %q %v", m.Phase, m.Message, m.Metadata)
	}
}

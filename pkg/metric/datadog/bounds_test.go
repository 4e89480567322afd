package datadog

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// The values of a query grouped many ways are recorded as the first ones
// and a count; the condition sees them all.
func TestManyGroupedValuesAreSummarised(t *testing.T) {
	var names, values []string
	for i := range 1000 {
		names = append(names, fmt.Sprintf(`["h%d"]`, i))
		values = append(values, "0.5")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":{"attributes":{"columns":[{"name":"host","type":"group","values":[%s]},{"name":"q","type":"number","values":[%s]}]}}}`,
			strings.Join(names, ","), strings.Join(values, ","))
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{ApiVersion: "v2", Query: "q by {host}"}))
	want := "[" + strings.Join(values[:metric.MaxListItems], ",") + ",... 950 more, 1000 in all]"
	if got, ok := rec.Got.([]float64); m.Value != want || !ok || len(got) != 1000 {
		t.Errorf("value %q, evaluated %d values; want %q and all 1000", m.Value, len(got), want)
	}
}

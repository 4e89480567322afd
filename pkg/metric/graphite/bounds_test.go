package graphite

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	body := metrictest.Padded(`[{"target":"a","datapoints":[`, `[1,1772366100]`, ",", `]}]`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(srv.URL, "target=a"))
	metrictest.WantTooLarge(t, m, rec)
}

// Many datapoints are recorded as the first ones and a count; the
// condition sees them all.
func TestManyDatapointsAreSummarised(t *testing.T) {
	body := `[{"target":"a","datapoints":[` + strings.TrimSuffix(strings.Repeat(`[2,1772366100],`, 1000), ",") + `]}]`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(srv.URL, "target=a"))
	want := "[" + strings.TrimSuffix(strings.Repeat("2.000000,", metric.MaxListItems), ",") + ",... 950 more, 1000 in all]"
	if got, ok := rec.Got.([]float64); m.Value != want || !ok || len(got) != 1000 {
		t.Errorf("value %q, evaluated %d values; want %q and all 1000", m.Value, len(got), want)
	}
}

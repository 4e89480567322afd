package graphite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func gMetric(address, query string) v1alpha1.Metric {
	return v1alpha1.Metric{Name: "success-rate", SuccessCondition: "result[0] >= 90", Provider: v1alpha1.MetricProvider{Graphite: &v1alpha1.GraphiteMetric{Address: address, Query: query}}}
}

// A query as the Argo Rollouts documentation writes it, over several lines.
const multiLineQuery = `target=summarize(
  asPercent(
    sumSeries(stats.timers.app.shop.outcome.{CLIENT_ERROR,SUCCESS}.count),
    sumSeries(stats.timers.app.shop.outcome.*.count)
  ),
  '5min',
  'avg'
)&from=-5min`

func TestRenderQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/graphite/render" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		q := r.URL.Query()
		wantTarget := "summarize(asPercent(sumSeries(stats.timers.app.shop.outcome.{CLIENT_ERROR,SUCCESS}.count),sumSeries(stats.timers.app.shop.outcome.*.count)),'5min','avg')"
		if q.Get("target") != wantTarget || q.Get("from") != "-5min" || q.Get("format") != "json" {
			t.Errorf("parameters %v", q)
		}
		_, _ = io.WriteString(w, `[{"target":"summarize(...)","tags":{"name":"x"},"datapoints":[[95.5,1772366100],[null,1772366160],["97.25",1772366220]]},
			{"target":"other","datapoints":[[1,1772366100]]}]`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(srv.URL+"/graphite/", multiLineQuery))
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "[95.500000,97.250000]" {
		t.Fatalf("measurement %+v", m)
	}
	if !reflect.DeepEqual(rec.Got, []float64{95.5, 97.25}) {
		t.Errorf("evaluated %#v", rec.Got)
	}
}

func TestAllNullIsEmptyList(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/render" {
			t.Errorf("path %s", r.URL.Path)
		}
		_, _ = io.WriteString(w, `[{"target":"a","datapoints":[[null,1772366100],[null,1772366160]]}]`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(srv.URL, "target=a"))
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "[]" || !reflect.DeepEqual(rec.Got, []float64{}) {
		t.Fatalf("measurement %+v, evaluated %#v", m, rec.Got)
	}
}

func TestNoDatapointsIsError(t *testing.T) {
	for _, body := range []string{`[]`, `[{"target":"a","datapoints":[]}]`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
		rec := &metrictest.Evaluator{}
		m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(srv.URL, "target=a"))
		srv.Close()
		if m.Phase != v1alpha1.AnalysisPhaseError || m.Message != "graphite: no values found" || rec.Called {
			t.Errorf("%s: %+v", body, m)
		}
	}
}

func TestServerErrorIsError(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadRequest} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "Traceback (most recent call last): ...")
		}))
		rec := &metrictest.Evaluator{}
		m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(srv.URL, "target=a"))
		srv.Close()
		if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, fmt.Sprint(status)) || !strings.Contains(m.Message, "Traceback") || rec.Called {
			t.Errorf("%d: %+v", status, m)
		}
	}
}

func TestUnreachableIsError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	address := srv.URL
	srv.Close()
	rec := &metrictest.Evaluator{}
	if m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(address, "target=a")); m.Phase != v1alpha1.AnalysisPhaseError || !strings.HasPrefix(m.Message, "graphite: GET") || rec.Called {
		t.Fatalf("%+v", m)
	}
}

func TestBadJSONIsError(t *testing.T) {
	for _, body := range []string{`[{"target":`, `{"error":"x"}`, `[{"target":"a","datapoints":[[1]]}]`, `[{"target":"a","datapoints":[["abc",1]]}]`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
		rec := &metrictest.Evaluator{}
		m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(srv.URL, "target=a"))
		srv.Close()
		if m.Phase != v1alpha1.AnalysisPhaseError || rec.Called {
			t.Errorf("%s: %+v", body, m)
		}
	}
}

func TestEvaluationErrorIsError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `[{"target":"a","datapoints":[[1,1]]}]`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{Err: errors.New("could not evaluate")}
	if m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(srv.URL, "target=a")); m.Phase != v1alpha1.AnalysisPhaseError || m.Message != "could not evaluate" || m.Value != "[1.000000]" {
		t.Fatalf("%+v", m)
	}
}

func TestBadAddress(t *testing.T) {
	for _, address := range []string{"", "graphite:8080", "://x"} {
		rec := &metrictest.Evaluator{}
		if m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(address, "target=a")); m.Phase != v1alpha1.AnalysisPhaseError || rec.Called {
			t.Errorf("%q: %+v", address, m)
		}
	}
}

func TestSynchronousMethods(t *testing.T) {
	p := New(nil, nil)
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning}
	if !reflect.DeepEqual(p.Resume(context.Background(), nil, v1alpha1.Metric{}, in), in) || !reflect.DeepEqual(p.Terminate(context.Background(), nil, v1alpha1.Metric{}, in), in) {
		t.Error("Resume or Terminate changed the measurement")
	}
	if p.Type() != "Graphite" || p.Metadata(v1alpha1.Metric{}) != nil || p.GarbageCollect(context.Background(), nil, v1alpha1.Metric{}, 0) != nil {
		t.Error("Type, Metadata or GarbageCollect")
	}
}

// TestDocumentedCondition runs a condition in the style of Argo Rollouts'
// Graphite example through the real evaluator.
func TestDocumentedCondition(t *testing.T) {
	for body, want := range map[string]v1alpha1.AnalysisPhase{
		`[{"target":"a","datapoints":[[95.5,1]]}]`: v1alpha1.AnalysisPhaseSuccessful,
		`[{"target":"a","datapoints":[[85,1]]}]`:   v1alpha1.AnalysisPhaseFailed,
		`[{"target":"a","datapoints":[[null,1]]}]`: v1alpha1.AnalysisPhaseError,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
		out := New(nil, metric.Evaluate).Run(context.Background(), nil, gMetric(srv.URL, "target=a"))
		srv.Close()
		if out.Phase != want {
			t.Errorf("%s: %+v, want %s", body, out, want)
		}
	}
}

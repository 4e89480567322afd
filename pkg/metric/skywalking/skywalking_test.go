package skywalking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

var fixedNow = time.Date(2026, 3, 1, 12, 7, 30, 0, time.UTC)

const testQuery = `query queryData($duration: Duration!) {
  service_apdex: readMetricsValues(
    condition: { name: "service_apdex", entity: { scope: Service, serviceName: "shop", normal: true } },
    duration: $duration) { label values { values { value } } }
}`

func setup(t *testing.T, rec *metrictest.Evaluator, interval v1alpha1.DurationString, handler http.HandlerFunc) (*Provider, v1alpha1.Metric) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	p := New(nil, rec.Evaluate)
	p.now = func() time.Time { return fixedNow }
	m := v1alpha1.Metric{
		Name:             "apdex",
		SuccessCondition: "all(result.service_apdex.values.values, {asFloat(.value) >= 9900})",
		Provider:         v1alpha1.MetricProvider{SkyWalking: &v1alpha1.SkyWalkingMetric{Address: srv.URL, Query: testQuery, Interval: interval}},
	}
	return p, m
}

const apdexData = `{"data":{"service_apdex":{"label":null,"values":{"values":[{"value":9950},{"value":10000}]}}}}`

func TestGraphQLQuery(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, "3m", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/graphql" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"query":     testQuery,
			"variables": map[string]any{"duration": map[string]any{"start": "2026-03-01 1204", "end": "2026-03-01 1207", "step": "MINUTE"}},
		}
		if !reflect.DeepEqual(body, want) {
			t.Errorf("body %v", body)
		}
		_, _ = io.WriteString(w, apdexData)
	})
	out := p.Run(context.Background(), nil, m)
	if out.Phase != v1alpha1.AnalysisPhaseSuccessful || out.Value != `{"service_apdex":{"label":null,"values":{"values":[{"value":9950},{"value":10000}]}}}` {
		t.Fatalf("measurement %+v", out)
	}
	want := map[string]any{"service_apdex": map[string]any{"label": nil, "values": map[string]any{"values": []any{map[string]any{"value": 9950.0}, map[string]any{"value": 10000.0}}}}}
	if !reflect.DeepEqual(rec.Got, want) {
		t.Errorf("evaluated %#v", rec.Got)
	}
}

func TestDefaultInterval(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, "", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(raw), `"start":"2026-03-01 1202"`) {
			t.Errorf("body %s", raw)
		}
		_, _ = io.WriteString(w, apdexData)
	})
	if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("%+v", out)
	}
}

func TestEmptyResultIsError(t *testing.T) {
	for _, body := range []string{`{"data":null}`, `{}`} {
		rec := &metrictest.Evaluator{}
		p, m := setup(t, rec, "3m", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) })
		if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "no results") || rec.Called {
			t.Errorf("%s: %+v", body, out)
		}
	}
}

func TestGraphQLErrorsAreErrors(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, "3m", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"data":null,"errors":[{"message":"Validation error of type FieldUndefined: Field 'foo' in type 'Query' is undefined","locations":[{"line":2,"column":3}]}]}`)
	})
	if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "FieldUndefined") || rec.Called {
		t.Fatalf("%+v", out)
	}
}

func TestServerErrorIsError(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway} {
		rec := &metrictest.Evaluator{}
		p, m := setup(t, rec, "3m", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, apdexData)
		})
		if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, fmt.Sprint(status)) || rec.Called {
			t.Errorf("%d: %+v", status, out)
		}
	}
}

func TestUnreachableIsError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	address := srv.URL
	srv.Close()
	rec := &metrictest.Evaluator{}
	m := v1alpha1.Metric{Provider: v1alpha1.MetricProvider{SkyWalking: &v1alpha1.SkyWalkingMetric{Address: address, Query: "q"}}}
	if out := New(nil, rec.Evaluate).Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || !strings.HasPrefix(out.Message, "skywalking: POST") || rec.Called {
		t.Fatalf("%+v", out)
	}
}

func TestBadJSONIsError(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, "3m", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"data":{`) })
	if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "not JSON") || rec.Called {
		t.Fatalf("%+v", out)
	}
}

func TestEvaluationErrorIsError(t *testing.T) {
	rec := &metrictest.Evaluator{Err: errors.New("could not evaluate")}
	p, m := setup(t, rec, "3m", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, apdexData) })
	if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || out.Message != "could not evaluate" || out.Value == "" {
		t.Fatalf("%+v", out)
	}
}

func TestBadSpec(t *testing.T) {
	for name, sw := range map[string]v1alpha1.SkyWalkingMetric{
		"no address":   {Query: "q"},
		"bad interval": {Address: "http://oap:12800", Query: "q", Interval: "3 minutes"},
	} {
		rec := &metrictest.Evaluator{}
		m := v1alpha1.Metric{Provider: v1alpha1.MetricProvider{SkyWalking: &sw}}
		if out := New(nil, rec.Evaluate).Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || rec.Called {
			t.Errorf("%s: %+v", name, out)
		}
	}
}

func TestSynchronousMethods(t *testing.T) {
	p := New(nil, nil)
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning}
	if !reflect.DeepEqual(p.Resume(context.Background(), nil, v1alpha1.Metric{}, in), in) || !reflect.DeepEqual(p.Terminate(context.Background(), nil, v1alpha1.Metric{}, in), in) {
		t.Error("Resume or Terminate changed the measurement")
	}
	if p.Type() != "skywalking" || p.Metadata(v1alpha1.Metric{}) != nil || p.GarbageCollect(context.Background(), nil, v1alpha1.Metric{}, 0) != nil {
		t.Error("Type, Metadata or GarbageCollect")
	}
}

// TestDocumentedCondition runs the condition of Argo Rollouts' SkyWalking
// example through the real evaluator.
func TestDocumentedCondition(t *testing.T) {
	for body, want := range map[string]v1alpha1.AnalysisPhase{
		apdexData: v1alpha1.AnalysisPhaseSuccessful,
		`{"data":{"service_apdex":{"label":null,"values":{"values":[{"value":9950},{"value":9000}]}}}}`: v1alpha1.AnalysisPhaseFailed,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
		p := New(nil, metric.Evaluate)
		m := v1alpha1.Metric{
			SuccessCondition: "all(result.service_apdex.values.values, {asFloat(.value) >= 9900})",
			Provider:         v1alpha1.MetricProvider{SkyWalking: &v1alpha1.SkyWalkingMetric{Address: srv.URL, Query: testQuery, Interval: "3m"}},
		}
		out := p.Run(context.Background(), nil, m)
		srv.Close()
		if out.Phase != want {
			t.Errorf("%s: %+v, want %s", body, out, want)
		}
	}
}

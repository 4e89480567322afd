package datadog

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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

const (
	testAPIKey = "dd-api-4f1c9e2b7a"
	testAppKey = "dd-app-8d3e6b1f0c"
	ctrlNS     = "argo-rollouts"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestProvider returns a provider whose default Secret points at
// address, with no Datadog variables in its environment.
func newTestProvider(t *testing.T, address string, rec *metrictest.Evaluator) *Provider {
	t.Helper()
	secrets := metrictest.Secrets{ctrlNS + "/" + SecretName: {apiKeyKey: testAPIKey, appKeyKey: testAppKey, addressKey: address}}
	p := New(http.DefaultClient, secrets, ctrlNS, rec.Evaluate)
	p.now = func() time.Time { return fixedNow }
	p.lookupEnv = func(string) (string, bool) { return "", false }
	return p
}

func ddMetric(dd v1alpha1.DatadogMetric) v1alpha1.Metric {
	return v1alpha1.Metric{Name: "error-rate", SuccessCondition: "result < 0.1", Provider: v1alpha1.MetricProvider{Datadog: &dd}}
}

var testRun = &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "run-1"}}

func checkKeys(t *testing.T, r *http.Request) {
	t.Helper()
	if got := r.Header.Get("DD-API-KEY"); got != testAPIKey {
		t.Errorf("DD-API-KEY = %q", got)
	}
	if got := r.Header.Get("DD-APPLICATION-KEY"); got != testAppKey {
		t.Errorf("DD-APPLICATION-KEY = %q", got)
	}
}

func TestV1LastPointOfFirstSeries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/query" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		checkKeys(t, r)
		q := r.URL.Query()
		to := fixedNow.Unix()
		if q.Get("query") != "avg:errors{service:shop}" || q.Get("to") != fmt.Sprint(to) || q.Get("from") != fmt.Sprint(to-600) {
			t.Errorf("query parameters %v", q)
		}
		_, _ = io.WriteString(w, `{"status":"ok","res_type":"time_series","series":[
			{"metric":"errors","pointlist":[[1772366100000.0,0.5],[1772366160000.0,0.0625]]},
			{"metric":"other","pointlist":[[1772366160000.0,9]]}]}`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	p := newTestProvider(t, srv.URL, rec)
	m := p.Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "avg:errors{service:shop}", Interval: "10m"}))
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "0.0625" || m.Message != "" {
		t.Fatalf("measurement %+v", m)
	}
	if rec.Got != 0.0625 {
		t.Errorf("evaluated %#v, want float64 0.0625", rec.Got)
	}
	if m.StartedAt != nil || m.FinishedAt != nil {
		t.Errorf("the provider stamped times: %+v", m)
	}
}

func TestV1DefaultsToFiveMinutes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("from") != fmt.Sprint(fixedNow.Unix()-300) {
			t.Errorf("from = %s", q.Get("from"))
		}
		_, _ = io.WriteString(w, `{"series":[{"pointlist":[[1,2]]}]}`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"}))
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "2" {
		t.Fatalf("measurement %+v", m)
	}
}

func TestV1EmptyResultIsNil(t *testing.T) {
	for _, tc := range []struct{ body, value string }{
		{`{"series":[]}`, `[]`},
		{`{"series":[{"pointlist":[]}]}`, `[{"pointlist":[]}]`},
		{`{}`, `null`},
		{`{"series":[{"pointlist":[[1772366160000.0,null]]}]}`, `[{"pointlist":[[1772366160000,null]]}]`},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, tc.body)
		}))
		rec := &metrictest.Evaluator{}
		m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q", ApiVersion: "v1"}))
		srv.Close()
		if m.Value != tc.value || !rec.Called || rec.Got != nil {
			t.Errorf("%s: measurement %+v, evaluated %#v", tc.body, m, rec.Got)
		}
	}
}

func TestV2FormulaRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/query/scalar" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		checkKeys(t, r)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		to := fixedNow.Unix() * 1000
		want := map[string]any{"data": map[string]any{
			"type": "scalar_request",
			"attributes": map[string]any{
				"from": float64(to - 300_000),
				"to":   float64(to),
				"queries": []any{
					map[string]any{"aggregator": "sum", "data_source": "metrics", "name": "a", "query": "sum:errors{*}.as_count()"},
					map[string]any{"aggregator": "sum", "data_source": "metrics", "name": "b", "query": "sum:requests{*}.as_count()"},
				},
				"formulas": []any{map[string]any{"formula": "a / b"}},
			},
		}}
		if !reflect.DeepEqual(body, want) {
			t.Errorf("body\n got %v\nwant %v", body, want)
		}
		_, _ = io.WriteString(w, `{"data":{"type":"scalar_response","attributes":{"columns":[
			{"name":"a / b","type":"number","values":[0.015],"meta":{"unit":null}}]}}}`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{
		ApiVersion: "v2",
		Aggregator: "sum",
		Queries:    map[string]string{"b": "sum:requests{*}.as_count()", "a": "sum:errors{*}.as_count()"},
		Formula:    "a / b",
	}))
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "0.015" || rec.Got != 0.015 {
		t.Fatalf("measurement %+v, evaluated %#v", m, rec.Got)
	}
	if m.Metadata != nil {
		t.Errorf("metadata %v for an ungrouped query", m.Metadata)
	}
}

func TestV2SingleQueryDefaultsToLast(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body v2Body
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		qs := body.Data.Attributes.Queries
		if len(qs) != 1 || qs[0].Name != "query" || qs[0].Aggregator != "last" || qs[0].Query != "max:restarts{*}" || len(body.Data.Attributes.Formulas) != 0 {
			t.Errorf("body %+v", body)
		}
		// An answer without column types, as older API versions sent.
		_, _ = io.WriteString(w, `{"data":{"attributes":{"columns":[{"name":"query","values":[3]}]}}}`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{ApiVersion: "v2", Query: "max:restarts{*}"}))
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "3" || rec.Got != 3.0 {
		t.Fatalf("measurement %+v", m)
	}
}

func TestV2GroupedQueryIsASlice(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"data":{"type":"scalar_response","attributes":{"columns":[
			{"name":"region","type":"group","values":[["us-east"],["eu-west"],["ap-south"]]},
			{"name":"resource","type":"group","values":[["GET /a"],["GET /b"],["GET /c"]]},
			{"name":"query","type":"number","values":[0.02,null,0.5]}]}}}`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{ApiVersion: "v2", Query: "sum:e{*} by {region,resource}"}))
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "[0.02,0.5]" {
		t.Fatalf("measurement %+v", m)
	}
	if !reflect.DeepEqual(rec.Got, []float64{0.02, 0.5}) {
		t.Errorf("evaluated %#v", rec.Got)
	}
	if got := m.Metadata["groups"]; got != `[{"name":"us-east,GET /a","value":0.02},{"name":"ap-south,GET /c","value":0.5}]` {
		t.Errorf("groups %s", got)
	}
	if _, ok := m.Metadata["groups_truncated"]; ok {
		t.Error("groups_truncated set for three groups")
	}
}

func TestV2ManyGroupsKeepExtremes(t *testing.T) {
	var names, values []string
	for i := range 150 {
		names = append(names, fmt.Sprintf(`["h%d"]`, i))
		values = append(values, fmt.Sprint(i))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":{"attributes":{"columns":[{"name":"host","type":"group","values":[%s]},{"name":"q","type":"number","values":[%s]}]}}}`,
			strings.Join(names, ","), strings.Join(values, ","))
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{ApiVersion: "v2", Query: "q by {host}"}))
	var groups []group
	if err := json.Unmarshal([]byte(m.Metadata["groups"]), &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != maxGroups || groups[0].Value != 0 || groups[49].Value != 49 || groups[50].Value != 100 || groups[99].Value != 149 {
		t.Errorf("kept %d groups: first %v, last %v", len(groups), groups[0], groups[len(groups)-1])
	}
	if m.Metadata["groups_truncated"] != "true" {
		t.Error("groups_truncated not set")
	}
	if got := rec.Got.([]float64); len(got) != 150 {
		t.Errorf("conditions saw %d values, want all 150", len(got))
	}
}

func TestV2EmptyResultIsNil(t *testing.T) {
	for _, body := range []string{
		`{"data":{"attributes":{"columns":[]}}}`,
		`{"data":{"attributes":{"columns":[{"name":"q","type":"number","values":[null]}]}}}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
		rec := &metrictest.Evaluator{}
		m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{ApiVersion: "v2", Query: "q"}))
		srv.Close()
		if m.Value != "[]" || !rec.Called || rec.Got != nil {
			t.Errorf("%s: measurement %+v, evaluated %#v", body, m, rec.Got)
		}
	}
}

func TestV2QueryErrors(t *testing.T) {
	for _, body := range []string{
		`{"data":{"attributes":{"columns":[]},"errors":"unknown metric foo"}}`,
		`{"data":{"attributes":{"columns":[{"name":"q","type":"number","values":["x"]}]}}}`,
		`{"data":{"attributes":{"columns":[{"name":"h","type":"group","values":[]},{"name":"q","type":"number","values":[1]}]}}}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
		rec := &metrictest.Evaluator{}
		m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{ApiVersion: "v2", Query: "q"}))
		srv.Close()
		if m.Phase != v1alpha1.AnalysisPhaseError || rec.Called {
			t.Errorf("%s: measurement %+v", body, m)
		}
	}
}

func TestServerErrorsAreErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{http.StatusInternalServerError, `{"errors":["Internal error"]}`, "500"},
		{http.StatusBadGateway, `<html>bad gateway</html>`, "502"},
		{http.StatusForbidden, `{"errors":["Forbidden"]}`, "refused"},
		{http.StatusUnauthorized, `{"errors":["Unauthorized"]}`, "refused"},
		{http.StatusBadRequest, `{"errors":["Error parsing query"]}`, "Error parsing query"},
	} {
		for _, version := range []string{"v1", "v2"} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			rec := &metrictest.Evaluator{}
			m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{ApiVersion: version, Query: "q"}))
			srv.Close()
			if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, tc.want) || rec.Called {
				t.Errorf("%s %d: measurement %+v", version, tc.status, m)
			}
		}
	}
}

func TestUnreachableIsError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	address := srv.URL
	srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(t, address, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"}))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "datadog") || rec.Called {
		t.Fatalf("measurement %+v", m)
	}
}

func TestRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	rec := &metrictest.Evaluator{}
	start := time.Now()
	m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q", RequestTimeout: "100ms"}))
	if m.Phase != v1alpha1.AnalysisPhaseError || time.Since(start) > 5*time.Second {
		t.Fatalf("measurement %+v after %v", m, time.Since(start))
	}
}

func TestBadJSONIsError(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"series": [`)
		}))
		rec := &metrictest.Evaluator{}
		m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{ApiVersion: version, Query: "q"}))
		srv.Close()
		if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "not JSON") || rec.Called {
			t.Errorf("%s: measurement %+v", version, m)
		}
	}
	// A point without a value is malformed too.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"series":[{"pointlist":[[1772366160000.0]]}]}`)
	}))
	defer srv.Close()
	m := newTestProvider(t, srv.URL, &metrictest.Evaluator{}).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"}))
	if m.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("one-value point: %+v", m)
	}
}

func TestEvaluationErrorIsError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"series":[{"pointlist":[[1,2]]}]}`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{Err: errors.New(`could not evaluate successCondition "result <": unexpected token`)}
	m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"}))
	if m.Phase != v1alpha1.AnalysisPhaseError || m.Message != rec.Err.Error() || m.Value != "2" {
		t.Fatalf("measurement %+v", m)
	}
	rec = &metrictest.Evaluator{Phase: v1alpha1.AnalysisPhaseFailed}
	m = newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"}))
	if m.Phase != v1alpha1.AnalysisPhaseFailed {
		t.Fatalf("measurement %+v", m)
	}
}

func TestMissingSecretNamesItWithoutItsContents(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p := New(http.DefaultClient, metrictest.Secrets{}, ctrlNS, rec.Evaluate)
	p.lookupEnv = func(string) (string, bool) { return "", false }
	m := p.Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"}))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, ctrlNS+"/datadog") || rec.Called {
		t.Fatalf("measurement %+v", m)
	}

	// A Secret without the application key: the message names the key.
	p = New(http.DefaultClient, metrictest.Secrets{ctrlNS + "/datadog": {apiKeyKey: testAPIKey}}, ctrlNS, rec.Evaluate)
	p.lookupEnv = func(string) (string, bool) { return "", false }
	m = p.Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"}))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, appKeyKey) || strings.Contains(m.Message, testAPIKey) {
		t.Fatalf("measurement %+v", m)
	}
}

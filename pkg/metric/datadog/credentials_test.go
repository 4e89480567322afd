package datadog

import (
	"context"
	"encoding/json"
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

// Where the Datadog provider finds its credentials, and that they never show.

func TestSecretRef(t *testing.T) {
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.Header.Get("DD-API-KEY"))
		_, _ = io.WriteString(w, `{"series":[{"pointlist":[[1,1]]}]}`)
	}))
	defer srv.Close()
	secrets := metrictest.Secrets{
		ctrlNS + "/datadog": {apiKeyKey: "default-api", appKeyKey: "default-app", addressKey: srv.URL},
		ctrlNS + "/team":    {apiKeyKey: "team-api", appKeyKey: "team-app", addressKey: srv.URL},
		"shop/team":         {apiKeyKey: "shop-api", appKeyKey: "shop-app", addressKey: srv.URL},
	}
	rec := &metrictest.Evaluator{}
	p := New(srv.Client(), secrets, ctrlNS, rec.Evaluate)
	p.lookupEnv = func(string) (string, bool) { return "", false }
	for _, ref := range []v1alpha1.SecretRef{{}, {Name: "team"}, {Name: "team", Namespaced: true}} {
		m := p.Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q", SecretRef: ref}))
		if m.Phase != v1alpha1.AnalysisPhaseSuccessful {
			t.Fatalf("%+v: %+v", ref, m)
		}
	}
	if want := []string{"default-api", "team-api", "shop-api"}; !reflect.DeepEqual(hits, want) {
		t.Errorf("keys used %v, want %v", hits, want)
	}

	// A named Secret that does not exist is not replaced by the default one.
	m := p.Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q", SecretRef: v1alpha1.SecretRef{Name: "missing", Namespaced: true}}))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "shop/missing") {
		t.Errorf("missing namespaced Secret: %+v", m)
	}
	m = p.Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q", SecretRef: v1alpha1.SecretRef{Namespaced: true}}))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "secretRef.name") {
		t.Errorf("namespaced without a name: %+v", m)
	}
}

func TestEnvironmentCredentials(t *testing.T) {
	var used string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		used = r.Header.Get("DD-API-KEY") + "/" + r.Header.Get("DD-APPLICATION-KEY")
		_, _ = io.WriteString(w, `{"series":[{"pointlist":[[1,1]]}]}`)
	}))
	defer srv.Close()
	secrets := metrictest.Secrets{ctrlNS + "/datadog": {apiKeyKey: "secret-api", appKeyKey: "secret-app", addressKey: srv.URL}}
	env := map[string]string{envAPIKey: "env-api", envAppKey: "env-app", envAddress: srv.URL}
	rec := &metrictest.Evaluator{}
	p := New(http.DefaultClient, secrets, ctrlNS, rec.Evaluate)
	p.lookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if m := p.Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"})); m.Phase != v1alpha1.AnalysisPhaseSuccessful || used != "env-api/env-app" {
		t.Fatalf("with all variables: %+v, used %s", m, used)
	}
	// Without DD_ADDRESS the variables are ignored, as in Argo Rollouts.
	delete(env, envAddress)
	if m := p.Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"})); m.Phase != v1alpha1.AnalysisPhaseSuccessful || used != "secret-api/secret-app" {
		t.Fatalf("without DD_ADDRESS: %+v, used %s", m, used)
	}
}

// transportFunc lets a test see requests without a server.
type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDefaultAddress(t *testing.T) {
	var got string
	client := &http.Client{Transport: transportFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.Scheme + "://" + r.URL.Host + r.URL.Path
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"series":[]}`)), Header: http.Header{}}, nil
	})}
	rec := &metrictest.Evaluator{}
	p := newTestProvider(t, "", rec)
	p.client = client
	p.Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{Query: "q"}))
	if got != "https://api.datadoghq.com/api/v1/query" {
		t.Errorf("request sent to %s", got)
	}
}

func TestInvalidSpecs(t *testing.T) {
	for name, dd := range map[string]v1alpha1.DatadogMetric{
		"nothing":            {},
		"query and queries":  {ApiVersion: "v2", Query: "a", Queries: map[string]string{"a": "b"}},
		"v1 with queries":    {ApiVersion: "v1", Queries: map[string]string{"a": "b"}},
		"formula alone":      {ApiVersion: "v2", Query: "a", Formula: "a"},
		"two without a sum":  {ApiVersion: "v2", Queries: map[string]string{"a": "x", "b": "y"}},
		"v1 aggregator":      {ApiVersion: "v1", Query: "a", Aggregator: "sum"},
		"bad interval":       {Query: "a", Interval: "five"},
		"zero timeout":       {Query: "a", RequestTimeout: "0s"},
		"unknown apiVersion": {ApiVersion: "v3", Query: "a"},
	} {
		rec := &metrictest.Evaluator{}
		p := newTestProvider(t, "http://127.0.0.1:1", rec)
		if m := p.Run(context.Background(), testRun, ddMetric(dd)); m.Phase != v1alpha1.AnalysisPhaseError || m.Message == "" {
			t.Errorf("%s: %+v", name, m)
		}
	}
}

// measurementText is every string a measurement carries.
func measurementText(m v1alpha1.Measurement) string {
	raw, _ := json.Marshal(m)
	return string(raw)
}

func TestCredentialsNeverInMeasurement(t *testing.T) {
	// A backend that echoes the keys it was sent, in an error and in data.
	for _, status := range []int{http.StatusOK, http.StatusForbidden, http.StatusInternalServerError} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			if status == http.StatusOK {
				fmt.Fprintf(w, `{"data":{"attributes":{"columns":[{"name":"h","type":"group","values":[[%q],[%q]]},{"name":"q","type":"number","values":[1,2]}]}}}`,
					r.Header.Get("DD-API-KEY"), r.Header.Get("DD-APPLICATION-KEY"))
				return
			}
			fmt.Fprintf(w, `{"errors":["key %s with app key %s is invalid"]}`, r.Header.Get("DD-API-KEY"), r.Header.Get("DD-APPLICATION-KEY"))
		}))
		rec := &metrictest.Evaluator{}
		m := newTestProvider(t, srv.URL, rec).Run(context.Background(), testRun, ddMetric(v1alpha1.DatadogMetric{ApiVersion: "v2", Query: "q by {h}"}))
		srv.Close()
		text := measurementText(m)
		if strings.Contains(text, testAPIKey) || strings.Contains(text, testAppKey) {
			t.Errorf("status %d: a key leaked into %s", status, text)
		}
		if !strings.Contains(text, "*****") {
			t.Errorf("status %d: echoed keys were not masked: %s", status, text)
		}
	}
}

func TestSynchronousMethods(t *testing.T) {
	p := New(nil, metrictest.Secrets{}, ctrlNS, (&metrictest.Evaluator{}).Evaluate)
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Value: "x"}
	if got := p.Resume(context.Background(), testRun, v1alpha1.Metric{}, in); !reflect.DeepEqual(got, in) {
		t.Errorf("Resume changed the measurement: %+v", got)
	}
	if got := p.Terminate(context.Background(), testRun, v1alpha1.Metric{}, in); !reflect.DeepEqual(got, in) {
		t.Errorf("Terminate changed the measurement: %+v", got)
	}
	if err := p.GarbageCollect(context.Background(), testRun, v1alpha1.Metric{}, 1); err != nil {
		t.Error(err)
	}
	if p.Type() != "Datadog" || p.Metadata(v1alpha1.Metric{}) != nil {
		t.Error("Type or Metadata")
	}
}

// TestDocumentedConditions runs conditions from Argo Rollouts' Datadog
// documentation through the real evaluator.
func TestDocumentedConditions(t *testing.T) {
	for _, tc := range []struct {
		version, body, condition string
		want                     v1alpha1.AnalysisPhase
	}{
		{"v1", `{"series":[{"pointlist":[[1,0.004]]}]}`, "result <= 0.01", v1alpha1.AnalysisPhaseSuccessful},
		{"v1", `{"series":[]}`, "default(result, 0) < 0.05", v1alpha1.AnalysisPhaseSuccessful},
		{"v1", `{"series":[]}`, "result < 0.05", v1alpha1.AnalysisPhaseError},
		{"v2", `{"data":{"attributes":{"columns":[{"name":"q","type":"number","values":[12]}]}}}`, "default(result, 0) < 10", v1alpha1.AnalysisPhaseFailed},
		{"v2", `{"data":{"attributes":{"columns":[{"name":"r","type":"group","values":[["a"],["b"]]},{"name":"q","type":"number","values":[0.01,0.07]}]}}}`, "max(result) < 0.05", v1alpha1.AnalysisPhaseFailed},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, tc.body) }))
		p := newTestProvider(t, srv.URL, &metrictest.Evaluator{})
		p.evaluate = metric.Evaluate
		m := ddMetric(v1alpha1.DatadogMetric{ApiVersion: tc.version, Query: "q"})
		m.SuccessCondition = tc.condition
		out := p.Run(context.Background(), testRun, m)
		srv.Close()
		if out.Phase != tc.want {
			t.Errorf("%s %s on %s: %+v, want %s", tc.version, tc.condition, tc.body, out, tc.want)
		}
	}
}

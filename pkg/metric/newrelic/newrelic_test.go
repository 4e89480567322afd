package newrelic

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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

const (
	testKey = "NRAK-7Q2W9E4R1T6Y3U8I5O0P"
	ctrlNS  = "argo-rollouts"
)

func nrMetric(nr v1alpha1.NewRelicMetric) v1alpha1.Metric {
	return v1alpha1.Metric{Name: "success-rate", SuccessCondition: "result.successRate >= 0.95", Provider: v1alpha1.MetricProvider{NewRelic: &nr}}
}

const testNRQL = "FROM Transaction SELECT percentage(count(*), WHERE httpResponseCode != 500) as successRate where appName = 'shop'"

// nerdGraph is a fake NerdGraph endpoint that checks the request and
// answers with the given NRQL rows.
func nerdGraph(t *testing.T, wantTimeout float64, rows string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/graphql" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("API-Key"); got != testKey {
			t.Errorf("API-Key %q", got)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var body struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body.Query, "nrql(query: $query, timeout: $timeout)") || !strings.Contains(body.Query, "account(id: $accountId)") {
			t.Errorf("GraphQL query %s", body.Query)
		}
		want := map[string]any{"accountId": float64(1234567), "query": testNRQL, "timeout": wantTimeout}
		if !reflect.DeepEqual(body.Variables, want) {
			t.Errorf("variables %v, want %v", body.Variables, want)
		}
		fmt.Fprintf(w, `{"data":{"actor":{"account":{"nrql":{"results":%s}}}}}`, rows)
	}))
}

func newTestProvider(endpoint string, rec *metrictest.Evaluator) *Provider {
	secrets := metrictest.Secrets{ctrlNS + "/newrelic": {apiKeyKey: testKey, accountIDKey: "1234567", nerdGraphURLKey: endpoint}}
	return New(http.DefaultClient, secrets, ctrlNS, rec.Evaluate)
}

func TestSingleRowIsAMap(t *testing.T) {
	srv := nerdGraph(t, 5, `[{"successRate":99.5,"count":1200}]`)
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(srv.URL+"/graphql", rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL}))
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != `{"count":1200,"successRate":99.5}` {
		t.Fatalf("measurement %+v", m)
	}
	if want := map[string]any{"successRate": 99.5, "count": 1200.0}; !reflect.DeepEqual(rec.Got, want) {
		t.Errorf("evaluated %#v", rec.Got)
	}
}

func TestSeveralRowsAreAList(t *testing.T) {
	timeout := int64(20)
	srv := nerdGraph(t, 20, `[{"facet":"a","average.duration":0.2},{"facet":"b","average.duration":0.4}]`)
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(srv.URL+"/graphql", rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL, Timeout: &timeout}))
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != `[{"average.duration":0.2,"facet":"a"},{"average.duration":0.4,"facet":"b"}]` {
		t.Fatalf("measurement %+v", m)
	}
	rows, ok := rec.Got.([]map[string]any)
	if !ok || len(rows) != 2 || rows[1]["average.duration"] != 0.4 {
		t.Errorf("evaluated %#v", rec.Got)
	}
}

func TestEmptyResultIsError(t *testing.T) {
	for _, rows := range []string{`[]`, `[{}]`, `null`} {
		srv := nerdGraph(t, 5, rows)
		rec := &metrictest.Evaluator{}
		m := newTestProvider(srv.URL+"/graphql", rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL}))
		srv.Close()
		if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "no results") || rec.Called {
			t.Errorf("%s: measurement %+v", rows, m)
		}
	}
}

func TestGraphQLErrorsAreErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"data":{"actor":{"account":{"nrql":null}}},"errors":[{"message":"NRQL Syntax Error: Error at line 1 position 5","path":["actor","account","nrql"]}]}`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(srv.URL, rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL}))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "NRQL Syntax Error") || rec.Called {
		t.Fatalf("measurement %+v", m)
	}
}

func TestServerErrorIsError(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusUnauthorized} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"errors":[{"message":"Internal Server Error"}]}`)
		}))
		rec := &metrictest.Evaluator{}
		m := newTestProvider(srv.URL, rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL}))
		srv.Close()
		if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, fmt.Sprint(status)) || rec.Called {
			t.Errorf("%d: measurement %+v", status, m)
		}
	}
}

func TestUnreachableIsError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	address := srv.URL
	srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(address, rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL}))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.HasPrefix(m.Message, "newrelic:") || rec.Called {
		t.Fatalf("measurement %+v", m)
	}
}

func TestBadJSONIsError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"data":{"actor":`)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := newTestProvider(srv.URL, rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL}))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "not JSON") || rec.Called {
		t.Fatalf("measurement %+v", m)
	}
}

func TestEvaluationErrorIsError(t *testing.T) {
	srv := nerdGraph(t, 5, `[{"successRate":99.5}]`)
	defer srv.Close()
	rec := &metrictest.Evaluator{Err: errors.New("could not evaluate successCondition")}
	m := newTestProvider(srv.URL+"/graphql", rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL}))
	if m.Phase != v1alpha1.AnalysisPhaseError || m.Message != rec.Err.Error() || m.Value == "" {
		t.Fatalf("measurement %+v", m)
	}
}

func TestProfiles(t *testing.T) {
	var used []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		used = append(used, r.Header.Get("API-Key"))
		_, _ = io.WriteString(w, `{"data":{"actor":{"account":{"nrql":{"results":[{"x":1}]}}}}}`)
	}))
	defer srv.Close()
	secrets := metrictest.Secrets{
		ctrlNS + "/newrelic": {apiKeyKey: "key-default", accountIDKey: "1", nerdGraphURLKey: srv.URL},
		ctrlNS + "/team-b":   {apiKeyKey: "key-team-b", accountIDKey: "2", nerdGraphURLKey: srv.URL, "base-url-rest": srv.URL},
		"shop/team-b":        {apiKeyKey: "key-wrong-namespace", accountIDKey: "3", nerdGraphURLKey: srv.URL},
	}
	p := New(nil, secrets, ctrlNS, (&metrictest.Evaluator{}).Evaluate)
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Namespace: "shop"}}
	for _, profile := range []string{"", "team-b"} {
		if m := p.Run(context.Background(), run, nrMetric(v1alpha1.NewRelicMetric{Profile: profile, Query: "q"})); m.Phase != v1alpha1.AnalysisPhaseSuccessful {
			t.Fatalf("profile %q: %+v", profile, m)
		}
	}
	if !reflect.DeepEqual(used, []string{"key-default", "key-team-b"}) {
		t.Errorf("keys used %v", used)
	}
}

func TestRegions(t *testing.T) {
	for region, want := range map[string]string{
		"":        "https://api.newrelic.com/graphql",
		"us":      "https://api.newrelic.com/graphql",
		"EU":      "https://api.eu.newrelic.com/graphql",
		"staging": "https://staging-api.newrelic.com/graphql",
	} {
		data := map[string]string{apiKeyKey: testKey, accountIDKey: "42"}
		if region != "" {
			data[regionKey] = region
		}
		p := New(nil, metrictest.Secrets{ctrlNS + "/newrelic": data}, ctrlNS, nil)
		prof, err := p.readProfile(context.Background(), "newrelic")
		if err != nil || prof.endpoint != want || prof.accountID != 42 {
			t.Errorf("region %q: %+v, %v", region, prof, err)
		}
	}
	p := New(nil, metrictest.Secrets{ctrlNS + "/newrelic": {apiKeyKey: testKey, accountIDKey: "42", regionKey: "mars"}}, ctrlNS, nil)
	if _, err := p.readProfile(context.Background(), "newrelic"); err == nil || !strings.Contains(err.Error(), "mars") {
		t.Errorf("unknown region: %v", err)
	}
}

func TestBadProfiles(t *testing.T) {
	for name, data := range map[string]map[string]string{
		"no key":         {accountIDKey: "1"},
		"no account":     {apiKeyKey: testKey},
		"account not id": {apiKeyKey: testKey, accountIDKey: "acme"},
	} {
		rec := &metrictest.Evaluator{}
		p := New(nil, metrictest.Secrets{ctrlNS + "/newrelic": data}, ctrlNS, rec.Evaluate)
		m := p.Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: "q"}))
		if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, ctrlNS+"/newrelic") || strings.Contains(m.Message, testKey) || rec.Called {
			t.Errorf("%s: %+v", name, m)
		}
	}
	negative := int64(-1)
	p := New(nil, metrictest.Secrets{}, ctrlNS, nil)
	if m := p.Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: "q", Timeout: &negative})); m.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("negative timeout: %+v", m)
	}
}

func TestMissingSecretNamesItWithoutItsContents(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p := New(nil, metrictest.Secrets{ctrlNS + "/newrelic": {apiKeyKey: testKey, accountIDKey: "1"}}, ctrlNS, rec.Evaluate)
	m := p.Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Profile: "other", Query: "q"}))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, ctrlNS+"/other") || strings.Contains(m.Message, testKey) || rec.Called {
		t.Fatalf("measurement %+v", m)
	}
}

func TestCredentialsNeverInMeasurement(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusForbidden} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			key := r.Header.Get("API-Key")
			if status == http.StatusOK {
				fmt.Fprintf(w, `{"data":{"actor":{"account":{"nrql":{"results":[{"echo":%q}]}}}}}`, key)
				return
			}
			fmt.Fprintf(w, `{"errors":[{"message":"invalid key %s"}]}`, key)
		}))
		rec := &metrictest.Evaluator{}
		m := newTestProvider(srv.URL, rec).Run(context.Background(), nil, nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL}))
		srv.Close()
		raw, _ := json.Marshal(m)
		if strings.Contains(string(raw), testKey) || !strings.Contains(string(raw), "*****") {
			t.Errorf("status %d: %s", status, raw)
		}
	}
}

func TestMetadataAndSynchronousMethods(t *testing.T) {
	p := New(nil, metrictest.Secrets{}, ctrlNS, nil)
	if got := p.Metadata(nrMetric(v1alpha1.NewRelicMetric{Query: testNRQL})); !reflect.DeepEqual(got, map[string]string{"ResolvedNewRelicQuery": testNRQL}) {
		t.Errorf("Metadata %v", got)
	}
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning}
	if !reflect.DeepEqual(p.Resume(context.Background(), nil, v1alpha1.Metric{}, in), in) || !reflect.DeepEqual(p.Terminate(context.Background(), nil, v1alpha1.Metric{}, in), in) {
		t.Error("Resume or Terminate changed the measurement")
	}
	if p.Type() != "NewRelic" || p.GarbageCollect(context.Background(), nil, v1alpha1.Metric{}, 0) != nil {
		t.Error("Type or GarbageCollect")
	}
}

// TestDocumentedConditions runs conditions in the style of Argo Rollouts'
// New Relic documentation through the real evaluator.
func TestDocumentedConditions(t *testing.T) {
	for _, tc := range []struct {
		rows, condition string
		want            v1alpha1.AnalysisPhase
	}{
		{`[{"successRate":0.97}]`, "result.successRate >= 0.95", v1alpha1.AnalysisPhaseSuccessful},
		{`[{"average.duration":0.7}]`, "result['average.duration'] < 0.5", v1alpha1.AnalysisPhaseFailed},
		{`[{"facet":"a","count":3},{"facet":"b","count":9}]`, "all(result, {.count < 10})", v1alpha1.AnalysisPhaseSuccessful},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"data":{"actor":{"account":{"nrql":{"results":%s}}}}}`, tc.rows)
		}))
		p := newTestProvider(srv.URL, &metrictest.Evaluator{})
		p.evaluate = metric.Evaluate
		m := nrMetric(v1alpha1.NewRelicMetric{Query: "q"})
		m.SuccessCondition = tc.condition
		out := p.Run(context.Background(), nil, m)
		srv.Close()
		if out.Phase != tc.want {
			t.Errorf("%s on %s: %+v, want %s", tc.condition, tc.rows, out, tc.want)
		}
	}
}

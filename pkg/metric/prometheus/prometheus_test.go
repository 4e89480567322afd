package prometheus

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/sigv4"
)

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// promServer answers /api/v1/query and /api/v1/query_range with body,
// after checking the request with check (if set).
func promServer(t *testing.T, body string, check func(r *http.Request)) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
		}
		if check != nil {
			check(r)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s
}

const (
	vector99    = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"x"},"value":[1767268800,"0.99"]}]}}`
	vectorTwo   = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1767268800,"0.5"]},{"metric":{"a":"2"},"value":[1767268800,"1.5"]}]}}`
	vectorEmpty = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	vectorNaN   = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767268800,"NaN"]}]}}`
	scalar      = `{"status":"success","data":{"resultType":"scalar","result":[1767268800,"0.25"]}}`
	matrix      = `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1767268740,"1"],[1767268800,"2"]]},{"metric":{"a":"2"},"values":[[1767268800,"3"]]}]}}`
	withWarning = `{"status":"success","warnings":["too many samples"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1767268800,"1"]}]}}`
	badData     = `{"status":"error","errorType":"bad_data","error":"parse error at char 4"}`
)

func metricFor(address, query, success string) v1alpha1.Metric {
	return v1alpha1.Metric{
		Name:             "rate",
		SuccessCondition: success,
		Provider:         v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: address, Query: query}},
	}
}

func measure(t *testing.T, m v1alpha1.Metric, o Options) v1alpha1.Measurement {
	t.Helper()
	if o.Clock == nil {
		o.Clock = clocktesting.NewFakePassiveClock(now)
	}
	p, err := New(m, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.Run(context.Background(), &v1alpha1.AnalysisRun{}, m)
}

func TestResults(t *testing.T) {
	tests := map[string]struct {
		body, success, failure string
		wantPhase              v1alpha1.AnalysisPhase
		wantValue              string
		wantMessage            string
	}{
		"a vector meeting the condition":       {body: vector99, success: "result[0] >= 0.95", wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: "[0.99]"},
		"a vector missing the condition":       {body: vector99, success: "result[0] >= 0.995", wantPhase: v1alpha1.AnalysisPhaseFailed, wantValue: "[0.99]"},
		"every sample of a vector is a float":  {body: vectorTwo, success: "len(result) == 2 && result[1] > result[0]", wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: "[0.5,1.5]"},
		"an empty vector errors on result[0]":  {body: vectorEmpty, success: "result[0] >= 0.95", wantPhase: v1alpha1.AnalysisPhaseError, wantValue: "[]", wantMessage: "metric result is nil or empty"},
		"an empty vector can be guarded":       {body: vectorEmpty, success: "len(result) == 0", wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: "[]"},
		"NaN is a value":                       {body: vectorNaN, success: "isNaN(result[0])", wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: "[NaN]"},
		"NaN compares false":                   {body: vectorNaN, success: "result[0] >= 0.95", wantPhase: v1alpha1.AnalysisPhaseFailed, wantValue: "[NaN]"},
		"a scalar is a float":                  {body: scalar, success: "result < 0.5", wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: "0.25"},
		"a matrix is flattened":                {body: matrix, success: "len(result) == 3 && result[2] == 3", wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: "[1,2,3]"},
		"inconclusive between the conditions":  {body: vector99, success: "result[0] > 0.999", failure: "result[0] < 0.5", wantPhase: v1alpha1.AnalysisPhaseInconclusive, wantValue: "[0.99]"},
		"a query error from Prometheus errors": {body: badData, success: "result[0] > 0", wantPhase: v1alpha1.AnalysisPhaseError, wantMessage: "parse error at char 4"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := promServer(t, tt.body, nil)
			m := metricFor(s.URL, "up", tt.success)
			m.FailureCondition = tt.failure
			got := measure(t, m, Options{})
			if got.Phase != tt.wantPhase || got.Value != tt.wantValue || !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("got %s %q %q, want %s %q containing %q", got.Phase, got.Value, got.Message, tt.wantPhase, tt.wantValue, tt.wantMessage)
			}
			if got.StartedAt != nil || got.FinishedAt != nil {
				t.Error("the provider stamped times; the reconciler does")
			}
		})
	}
}

func TestInstantQueryRequest(t *testing.T) {
	var gotQuery, gotTime, gotHeader string
	s := promServer(t, vector99, func(r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			t.Errorf("path %s", r.URL.Path)
		}
		gotQuery, gotTime, gotHeader = r.Form.Get("query"), r.Form.Get("time"), r.Header.Get("X-Scope-OrgID")
	})
	m := metricFor(s.URL, `sum(rate(http{service="x"}[5m]))`, "result[0] > 0")
	m.Provider.Prometheus.Headers = []v1alpha1.WebMetricHeader{{Key: "X-Scope-OrgID", Value: "tenant-1"}}
	if got := measure(t, m, Options{}); got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("%+v", got)
	}
	if gotQuery != `sum(rate(http{service="x"}[5m]))` || gotHeader != "tenant-1" {
		t.Errorf("query %q header %q", gotQuery, gotHeader)
	}
	if ts, _ := time.Parse(time.RFC3339Nano, gotTime); !ts.Equal(now) {
		// client_golang sends the time as a Unix timestamp.
		if gotTime != "1767268800" {
			t.Errorf("time %q, want the injected clock", gotTime)
		}
	}
}

func TestRangeQuery(t *testing.T) {
	var form map[string]string
	s := promServer(t, matrix, func(r *http.Request) {
		if r.URL.Path != "/api/v1/query_range" {
			t.Errorf("path %s", r.URL.Path)
		}
		form = map[string]string{"start": r.Form.Get("start"), "end": r.Form.Get("end"), "step": r.Form.Get("step")}
	})
	m := metricFor(s.URL, "up", "all(result, {# > 0})")
	m.Provider.Prometheus.RangeQuery = &v1alpha1.PrometheusRangeQueryArgs{Start: `now() - duration("10m")`, End: "now()", Step: "1m"}
	if got := measure(t, m, Options{}); got.Phase != v1alpha1.AnalysisPhaseSuccessful || got.Value != "[1,2,3]" {
		t.Fatalf("%+v", got)
	}
	want := map[string]string{"start": "1767268200", "end": "1767268800", "step": "60"}
	for k, v := range want {
		if !strings.HasPrefix(form[k], v) {
			t.Errorf("%s = %q, want %q", k, form[k], v)
		}
	}

	m.Provider.Prometheus.RangeQuery.Start = "1 + 1"
	if got := measure(t, m, Options{}); got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "failed to parse rangeQuery.start as time") {
		t.Errorf("bad start: %+v", got)
	}

	m.Provider.Prometheus.RangeQuery.Start = `len(reduce(1..24, #acc + #acc, "xx")) > 0 ? now() : now()`
	wantMessage := "failed to parse rangeQuery.start as time: time expression exceeds the memory budget of 1000000 units"
	if got := measure(t, m, Options{}); got.Phase != v1alpha1.AnalysisPhaseError || got.Message != wantMessage {
		t.Errorf("a start past the memory budget: %+v", got)
	}
}

func TestFailuresAreErrorsNeverSuccess(t *testing.T) {
	t.Run("a server error", func(t *testing.T) {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}))
		defer s.Close()
		if got := measure(t, metricFor(s.URL, "up", ""), Options{}); got.Phase != v1alpha1.AnalysisPhaseError || got.Message == "" {
			t.Errorf("%+v", got)
		}
	})
	t.Run("an unreachable server", func(t *testing.T) {
		s := httptest.NewServer(http.NotFoundHandler())
		addr := s.URL
		s.Close()
		if got := measure(t, metricFor(addr, "up", ""), Options{}); got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "connect") {
			t.Errorf("%+v", got)
		}
	})
	t.Run("a query slower than the timeout", func(t *testing.T) {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		}))
		defer s.Close()
		m := metricFor(s.URL, "up", "")
		one := int64(1)
		m.Provider.Prometheus.Timeout = &one
		start := time.Now()
		got := measure(t, m, Options{})
		if got.Phase != v1alpha1.AnalysisPhaseError || time.Since(start) > 10*time.Second {
			t.Errorf("%+v after %v", got, time.Since(start))
		}
	})
}

func TestAddressAndTLS(t *testing.T) {
	s := promServer(t, vector99, nil)
	m := metricFor("", "up", "result[0] > 0")
	if got := measure(t, m, Options{DefaultAddress: s.URL}); got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Errorf("default address: %+v", got)
	}
	if _, err := New(m, Options{}); err == nil || err.Error() != "prometheus address is not configured" {
		t.Errorf("no address: %v", err)
	}
	if _, err := New(metricFor("not a url", "up", ""), Options{}); err == nil {
		t.Error("invalid address accepted")
	}
	negative := int64(-1)
	m = metricFor(s.URL, "up", "")
	m.Provider.Prometheus.Timeout = &negative
	if _, err := New(m, Options{}); err == nil {
		t.Error("negative timeout accepted")
	}

	tlsServer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(vector99))
	}))
	defer tlsServer.Close()
	m = metricFor(tlsServer.URL, "up", "result[0] > 0")
	if got := measure(t, m, Options{}); got.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("self-signed certificate accepted without insecure: %+v", got)
	}
	m.Provider.Prometheus.Insecure = true
	if got := measure(t, m, Options{}); got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Errorf("insecure: %+v", got)
	}
}

func TestAuthentication(t *testing.T) {
	t.Run("basic auth", func(t *testing.T) {
		s := promServer(t, vector99, func(r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "pass" {
				t.Errorf("basic auth %q %q %v", u, p, ok)
			}
		})
		m := metricFor(s.URL, "up", "result[0] > 0")
		m.Provider.Prometheus.Authentication.BasicAuth = v1alpha1.BasicAuthConfig{Username: "user", Password: "pass"}
		if got := measure(t, m, Options{}); got.Phase != v1alpha1.AnalysisPhaseSuccessful {
			t.Errorf("%+v", got)
		}
		m.Provider.Prometheus.Authentication.BasicAuth.Password = ""
		if _, err := New(m, Options{}); err == nil || !strings.Contains(err.Error(), "basic auth setup: password") {
			t.Errorf("missing password: %v", err)
		}
	})
	t.Run("oauth2 client credentials", func(t *testing.T) {
		tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			id, secret, _ := r.BasicAuth()
			if r.Form.Get("grant_type") != "client_credentials" || id != "id" || secret != "secret" || r.Form.Get("scope") != "read" {
				http.Error(w, "bad client", http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "tok", "token_type": "bearer", "expires_in": 3600})
		}))
		defer tokens.Close()
		s := promServer(t, vector99, func(r *http.Request) {
			if got := r.Header.Get("Authorization"); got != "Bearer tok" {
				t.Errorf("Authorization %q", got)
			}
		})
		m := metricFor(s.URL, "up", "result[0] > 0")
		m.Provider.Prometheus.Authentication.OAuth2 = v1alpha1.OAuth2Config{TokenURL: tokens.URL, ClientID: "id", ClientSecret: "secret", Scopes: []string{"read"}}
		if got := measure(t, m, Options{}); got.Phase != v1alpha1.AnalysisPhaseSuccessful {
			t.Errorf("%+v", got)
		}
		m.Provider.Prometheus.Authentication.OAuth2.ClientSecret = "wrong"
		if got := measure(t, m, Options{}); got.Phase != v1alpha1.AnalysisPhaseError {
			t.Errorf("a rejected token request: %+v", got)
		}
		m.Provider.Prometheus.Authentication.OAuth2.ClientID = ""
		if _, err := New(m, Options{}); err == nil || !strings.Contains(err.Error(), "OAuth2") {
			t.Errorf("missing client id: %v", err)
		}
	})
}

func TestMetadataAndWarnings(t *testing.T) {
	s := promServer(t, withWarning, nil)
	m := metricFor(s.URL, `up{job="x"}`, "")
	p, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Metadata(m); got[ResolvedQueryKey] != `up{job="x"}` {
		t.Errorf("metadata %v", got)
	}
	got := p.Run(context.Background(), &v1alpha1.AnalysisRun{}, m)
	if got.Metadata["warnings"] != `"too many samples"` || got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Errorf("%+v", got)
	}
}

type staticCredentials sigv4.Credentials

func (c staticCredentials) Retrieve(context.Context) (sigv4.Credentials, error) {
	return sigv4.Credentials(c), nil
}

func TestSigV4ForAmazonManagedPrometheus(t *testing.T) {
	var auth, date string
	s := promServer(t, vector99, func(r *http.Request) {
		auth, date = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date")
		if r.Form.Get("query") != "up" {
			t.Errorf("the signed body was not sent: %v", r.Form)
		}
	})
	m := metricFor(s.URL+"/workspaces/aps-workspaces/ws-1", "up", "result[0] > 0")
	m.Provider.Prometheus.Authentication.Sigv4 = v1alpha1.Sigv4Config{Region: "eu-west-1"}
	local := func(u *url.URL) bool { return u.Host == strings.TrimPrefix(s.URL, "http://") }
	got := measure(t, m, Options{AWSCredentials: staticCredentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, AWSEndpoint: local})
	if got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("%+v", got)
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/aps/aws4_request, SignedHeaders=") || date != "20260101T120000Z" {
		t.Errorf("Authorization %q, X-Amz-Date %q", auth, date)
	}
	// With the default rule, the same metric pointed at a server outside
	// AWS sends nothing signed: the credentials stay home.
	auth = ""
	refused := measure(t, m, Options{AWSCredentials: staticCredentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "tok"}})
	if refused.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(refused.Message, "not an AWS endpoint") || auth != "" {
		t.Errorf("a signed request went to a server outside AWS: %+v, Authorization %q", refused, auth)
	}
	m.Provider.Prometheus.Authentication.Sigv4.RoleARN = "arn:aws:iam::1:role/x"
	if _, err := New(m, Options{}); err == nil {
		t.Error("roleArn accepted")
	}
}

func TestOnlyAWSEndpointsAreSignedFor(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1": true,
		"https://aps-workspaces.cn-north-1.amazonaws.com.cn/x":           true,
		"https://AMP.EU-WEST-1.AMAZONAWS.COM/x":                          true,
		"http://aps-workspaces.eu-west-1.amazonaws.com/x":                false,
		"https://aps-workspaces.eu-west-1.amazonaws.com.evil.example/x":  false,
		"https://evil.example/aps-workspaces/x":                          false,
		"https://amazonaws.com@evil.example/x":                           false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsAWSEndpoint(u); got != want {
			t.Errorf("IsAWSEndpoint(%s) = %v, want %v", raw, got, want)
		}
	}
}

package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func webMetric(url string, opts func(*v1alpha1.WebMetric)) v1alpha1.Metric {
	m := v1alpha1.Metric{Name: "web", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: url}}}
	if opts != nil {
		opts(m.Provider.Web)
	}
	return m
}

func run(t *testing.T, m v1alpha1.Metric) v1alpha1.Measurement {
	t.Helper()
	p, err := New(m)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.Run(context.Background(), &v1alpha1.AnalysisRun{}, m)
}

func serve(t *testing.T, status int, body string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestResults(t *testing.T) {
	tests := map[string]struct {
		body, path, success string
		wantPhase           v1alpha1.AnalysisPhase
		wantValue           string
		wantMessage         string
	}{
		"the whole document is the default":      {body: `{"successful":true,"rate":0.99}`, success: "result.successful == true", wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: `{"rate":0.99,"successful":true}`},
		"a JSONPath picks a number":              {body: `{"data":{"ok":true,"rate":0.8}}`, path: "{$.data.rate}", success: "result >= 0.9", wantPhase: v1alpha1.AnalysisPhaseFailed, wantValue: "0.8"},
		"a JSONPath picks a bool":                {body: `{"data":{"ok":true}}`, path: "{$.data.ok}", success: "result == true", wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: "true"},
		"a JSONPath picks a string":              {body: `{"status":"green"}`, path: "{$.status}", success: `result == "green"`, wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: `"green"`},
		"asFloat of a numeric string":            {body: `{"rate":"0.97"}`, path: "{$.rate}", success: "asFloat(result) > 0.95", wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: `"0.97"`},
		"a body that is not JSON is a string":    {body: "OK", success: `result == "OK"`, wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: "OK"},
		"no condition succeeds":                  {body: `{}`, wantPhase: v1alpha1.AnalysisPhaseSuccessful, wantValue: "{}"},
		"a JSONPath that is missing is an error": {body: `{"a":1}`, path: "{$.b}", success: "result > 0", wantPhase: v1alpha1.AnalysisPhaseError, wantMessage: "Could not find JSONPath in body"},
		"a condition error is an error":          {body: `{"a":1}`, path: "{$.a}", success: "result.x == 1", wantPhase: v1alpha1.AnalysisPhaseError, wantValue: "1", wantMessage: "could not evaluate successCondition"},
		"a condition past the memory budget is an error naming it": {
			body: `{"a":1}`, path: "{$.a}", success: `reduce(1..24, #acc + #acc, "xx") != ""`, wantPhase: v1alpha1.AnalysisPhaseError, wantValue: "1",
			wantMessage: `could not evaluate successCondition "reduce(1..24, #acc + #acc, \"xx\") != \"\"": condition exceeds the memory budget of 1000000 units`,
		},
		"a condition past the node limit is an error naming it": {
			body: `{"a":1}`, path: "{$.a}", success: strings.Repeat("result > 0 && ", 400) + "true", wantPhase: v1alpha1.AnalysisPhaseError, wantValue: "1",
			wantMessage: "condition exceeds the limit of 1000 nodes",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := serve(t, http.StatusOK, tt.body)
			m := webMetric(s.URL, func(w *v1alpha1.WebMetric) { w.JSONPath = tt.path })
			m.SuccessCondition = tt.success
			got := run(t, m)
			if got.Phase != tt.wantPhase || got.Value != tt.wantValue || !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("got %s %q %q, want %s %q containing %q", got.Phase, got.Value, got.Message, tt.wantPhase, tt.wantValue, tt.wantMessage)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	type seen struct {
		method, body, contentType, auth string
	}
	var got seen
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, string(b), r.Header.Get("Content-Type"), r.Header.Get("Authorization")}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer s.Close()
	tests := map[string]struct {
		spec func(*v1alpha1.WebMetric)
		want seen
	}{
		"GET by default, headers sent": {
			spec: func(w *v1alpha1.WebMetric) {
				w.Headers = []v1alpha1.WebMetricHeader{{Key: "Authorization", Value: "Bearer abc"}}
			},
			want: seen{method: "GET", auth: "Bearer abc"},
		},
		"POST with a raw body": {
			spec: func(w *v1alpha1.WebMetric) {
				w.Method, w.Body = v1alpha1.WebMetricMethodPost, "a=b"
				w.Headers = []v1alpha1.WebMetricHeader{{Key: "Content-Type", Value: "text/plain"}}
			},
			want: seen{method: "POST", body: "a=b", contentType: "text/plain"},
		},
		"PUT with a JSON body sets the content type": {
			spec: func(w *v1alpha1.WebMetric) {
				w.Method, w.JSONBody = v1alpha1.WebMetricMethodPut, json.RawMessage(`{"key":"value"}`)
			},
			want: seen{method: "PUT", body: `{"key":"value"}`, contentType: "application/json"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got = seen{}
			if m := run(t, webMetric(s.URL, tt.spec)); m.Phase != v1alpha1.AnalysisPhaseSuccessful {
				t.Fatalf("%+v", m)
			}
			if got != tt.want {
				t.Errorf("request %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Run("a non-2xx response", func(t *testing.T) {
		s := serve(t, http.StatusServiceUnavailable, `{"ok":true}`)
		got := run(t, webMetric(s.URL, nil))
		if got.Phase != v1alpha1.AnalysisPhaseError || got.Message != "received non 2xx response code: 503" {
			t.Errorf("%+v", got)
		}
	})
	t.Run("a body with GET", func(t *testing.T) {
		got := run(t, webMetric("http://127.0.0.1:1", func(w *v1alpha1.WebMetric) { w.Body = "x" }))
		if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "can only be used with POST or PUT") {
			t.Errorf("%+v", got)
		}
	})
	t.Run("both body and jsonBody", func(t *testing.T) {
		got := run(t, webMetric("http://127.0.0.1:1", func(w *v1alpha1.WebMetric) {
			w.Method, w.Body, w.JSONBody = v1alpha1.WebMetricMethodPost, "x", json.RawMessage(`{}`)
		}))
		if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "use either Body or JSONBody") {
			t.Errorf("%+v", got)
		}
	})
	t.Run("an unreachable endpoint", func(t *testing.T) {
		s := httptest.NewServer(http.NotFoundHandler())
		url := s.URL
		s.Close()
		if got := run(t, webMetric(url, nil)); got.Phase != v1alpha1.AnalysisPhaseError {
			t.Errorf("%+v", got)
		}
	})
	t.Run("timeoutSeconds bounds the request", func(t *testing.T) {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		}))
		defer s.Close()
		start := time.Now()
		got := run(t, webMetric(s.URL, func(w *v1alpha1.WebMetric) { w.TimeoutSeconds = 1 }))
		if got.Phase != v1alpha1.AnalysisPhaseError || time.Since(start) > 2500*time.Millisecond {
			t.Errorf("%+v after %v", got, time.Since(start))
		}
	})
	t.Run("an invalid JSONPath", func(t *testing.T) {
		if _, err := New(webMetric("http://x", func(w *v1alpha1.WebMetric) { w.JSONPath = "{.a[" })); err == nil {
			t.Error("accepted")
		}
	})
}

func TestInsecureAndOAuth2(t *testing.T) {
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":3600}`))
	}))
	defer tokens.Close()
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer s.Close()
	m := webMetric(s.URL, func(w *v1alpha1.WebMetric) {
		w.Authentication.OAuth2 = v1alpha1.OAuth2Config{TokenURL: tokens.URL, ClientID: "id", ClientSecret: "secret"}
	})
	m.SuccessCondition = "result.ok"
	if got := run(t, m); got.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("self-signed certificate accepted without insecure: %+v", got)
	}
	m.Provider.Web.Insecure = true
	if got := run(t, m); got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Errorf("%+v", got)
	}
}

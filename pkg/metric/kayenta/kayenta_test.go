package kayenta

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func kMetric(address string, k v1alpha1.KayentaMetric) v1alpha1.Metric {
	k.Address = address
	return v1alpha1.Metric{Name: "mann-whitney", Interval: "1h", Provider: v1alpha1.MetricProvider{Kayenta: &k}}
}

var guestbook = v1alpha1.KayentaMetric{
	Application:              "guestbook",
	CanaryConfigName:         "my-test",
	MetricsAccountName:       "prom-account",
	ConfigurationAccountName: "gcs-config",
	StorageAccountName:       "gcs-storage",
	Threshold:                v1alpha1.KayentaThreshold{Pass: 90, Marginal: 75},
	Scopes: []v1alpha1.KayentaScope{{
		Name:            "default",
		ControlScope:    v1alpha1.ScopeDetail{Scope: "app=guestbook and rollouts-pod-template-hash=stable1", Region: "us-east-1", Step: 60},
		ExperimentScope: v1alpha1.ScopeDetail{Scope: "app=guestbook and rollouts-pod-template-hash=canary2", Region: "us-east-1", Step: 60},
	}},
}

// fakeKayenta is a Kayenta server with one canary configuration that
// completes an execution after a number of polls.
type fakeKayenta struct {
	t         *testing.T
	mu        sync.Mutex
	started   []map[string]any
	polls     int
	pollsLeft int
	score     string
}

func (f *fakeKayenta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/canaryConfig":
		q := r.URL.Query()
		if q.Get("application") != "guestbook" || q.Get("configurationAccountName") != "gcs-config" {
			f.t.Errorf("config lookup %v", q)
		}
		_, _ = io.WriteString(w, `[{"id":"c0ffee-1","name":"other","updatedTimestamp":1,"applications":["guestbook"]},
			{"id":"c0ffee-2","name":"my-test","updatedTimestamp":2,"updatedTimestampIso":"2026-01-01T00:00:00Z","applications":["guestbook"]}]`)
	case r.Method == http.MethodPost && r.URL.Path == "/canary/c0ffee-2":
		q := r.URL.Query()
		want := map[string]string{"application": "guestbook", "metricsAccountName": "prom-account", "configurationAccountName": "gcs-config", "storageAccountName": "gcs-storage"}
		for k, v := range want {
			if q.Get(k) != v {
				f.t.Errorf("parameter %s = %q", k, q.Get(k))
			}
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			f.t.Errorf("Content-Type %q", ct)
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Fatal(err)
		}
		f.started = append(f.started, body)
		_, _ = io.WriteString(w, `{"canaryExecutionId":"01HEXEC42"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/canary/01HEXEC42":
		f.polls++
		if f.pollsLeft > 0 {
			f.pollsLeft--
			_, _ = io.WriteString(w, `{"application":"guestbook","status":"running","complete":false}`)
			return
		}
		fmt.Fprintf(w, `{"application":"guestbook","status":"succeeded","complete":true,"result":{"judgeResult":{"judgeName":"NetflixJudge-v1.0","score":{"score":%s,"classification":"Pass"}}}}`, f.score)
	default:
		f.t.Errorf("unexpected %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

func newTestProvider() *Provider {
	p := New(nil)
	p.now = func() time.Time { return fixedNow }
	return p
}

func TestJudgementLifecycle(t *testing.T) {
	f := &fakeKayenta{t: t, pollsLeft: 1, score: "92.5"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	p := newTestProvider()
	m := kMetric(srv.URL+"/", guestbook)

	out := p.Run(context.Background(), &v1alpha1.AnalysisRun{}, m)
	if out.Phase != v1alpha1.AnalysisPhaseRunning || out.Metadata[ExecutionIDKey] != "01HEXEC42" || out.ResumeAt == nil || !out.ResumeAt.Time.Equal(fixedNow.Add(15*time.Second)) {
		t.Fatalf("Run: %+v", out)
	}
	window := map[string]any{"start": "2026-03-01T11:00:00Z", "end": "2026-03-01T12:00:00Z"}
	control := map[string]any{"scope": "app=guestbook and rollouts-pod-template-hash=stable1", "location": "us-east-1", "step": 60.0}
	experiment := map[string]any{"scope": "app=guestbook and rollouts-pod-template-hash=canary2", "location": "us-east-1", "step": 60.0}
	for k, v := range window {
		control[k], experiment[k] = v, v
	}
	want := map[string]any{
		"scopes":     map[string]any{"default": map[string]any{"controlScope": control, "experimentScope": experiment}},
		"thresholds": map[string]any{"pass": 90.0, "marginal": 75.0},
	}
	if len(f.started) != 1 || !reflect.DeepEqual(f.started[0], want) {
		t.Errorf("judgement request\n got %v\nwant %v", f.started, want)
	}

	p.now = func() time.Time { return fixedNow.Add(20 * time.Second) }
	out = p.Resume(context.Background(), &v1alpha1.AnalysisRun{}, m, out)
	if out.Phase != v1alpha1.AnalysisPhaseRunning || !out.ResumeAt.Time.Equal(fixedNow.Add(35*time.Second)) || out.Metadata[ExecutionIDKey] != "01HEXEC42" {
		t.Fatalf("first Resume: %+v", out)
	}
	out = p.Resume(context.Background(), &v1alpha1.AnalysisRun{}, m, out)
	if out.Phase != v1alpha1.AnalysisPhaseSuccessful || out.Value != "92" || out.ResumeAt != nil || out.Metadata[ExecutionIDKey] != "01HEXEC42" {
		t.Fatalf("second Resume: %+v", out)
	}
	if f.polls != 2 {
		t.Errorf("%d polls", f.polls)
	}
}

func TestScoreThresholds(t *testing.T) {
	for score, want := range map[string]v1alpha1.AnalysisPhase{
		"100":  v1alpha1.AnalysisPhaseSuccessful,
		"90":   v1alpha1.AnalysisPhaseSuccessful,
		"89.9": v1alpha1.AnalysisPhaseInconclusive,
		"75":   v1alpha1.AnalysisPhaseInconclusive,
		"74.5": v1alpha1.AnalysisPhaseFailed,
		"0":    v1alpha1.AnalysisPhaseFailed,
	} {
		srv := httptest.NewServer(&fakeKayenta{t: t, score: score})
		m := kMetric(srv.URL, guestbook)
		in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Metadata: map[string]string{ExecutionIDKey: "01HEXEC42"}}
		out := newTestProvider().Resume(context.Background(), nil, m, in)
		srv.Close()
		if out.Phase != want {
			t.Errorf("score %s: %+v, want %s", score, out, want)
		}
	}
}

func TestExplicitWindowAndLookback(t *testing.T) {
	f := &fakeKayenta{t: t}
	srv := httptest.NewServer(f)
	defer srv.Close()
	p := newTestProvider()

	explicit := guestbook
	explicit.Scopes = []v1alpha1.KayentaScope{{
		Name:            "default",
		ControlScope:    v1alpha1.ScopeDetail{Scope: "a", Step: 60, Start: "2026-02-28T10:00:00Z", End: "2026-02-28T11:00:00Z"},
		ExperimentScope: v1alpha1.ScopeDetail{Scope: "b", Step: 60, Start: "2026-02-28T10:00:00Z", End: "2026-02-28T11:00:00Z"},
	}}
	if out := p.Run(context.Background(), nil, kMetric(srv.URL, explicit)); out.Phase != v1alpha1.AnalysisPhaseRunning {
		t.Fatalf("explicit window: %+v", out)
	}
	lookback := guestbook
	lookback.Lookback = true
	started := metav1.NewTime(fixedNow.Add(-3 * time.Hour))
	run := &v1alpha1.AnalysisRun{Status: v1alpha1.AnalysisRunStatus{StartedAt: &started}}
	if out := p.Run(context.Background(), run, kMetric(srv.URL, lookback)); out.Phase != v1alpha1.AnalysisPhaseRunning {
		t.Fatalf("lookback: %+v", out)
	}
	scopeOf := func(i int) map[string]any {
		return f.started[i]["scopes"].(map[string]any)["default"].(map[string]any)["controlScope"].(map[string]any)
	}
	if s := scopeOf(0); s["start"] != "2026-02-28T10:00:00Z" || s["end"] != "2026-02-28T11:00:00Z" {
		t.Errorf("explicit window sent as %v", s)
	}
	if s := scopeOf(1); s["start"] != "2026-03-01T09:00:00Z" || s["end"] != "2026-03-01T12:00:00Z" {
		t.Errorf("lookback window sent as %v", s)
	}
}

func TestBadScopes(t *testing.T) {
	half := guestbook
	half.Scopes = []v1alpha1.KayentaScope{{Name: "x", ControlScope: v1alpha1.ScopeDetail{Start: "2026-02-28T10:00:00Z"}}}
	lookback := guestbook
	lookback.Lookback = true
	for name, tc := range map[string]struct {
		m   v1alpha1.Metric
		run *v1alpha1.AnalysisRun
	}{
		"one start only":         {kMetric("http://kayenta", half), nil},
		"lookback before start":  {kMetric("http://kayenta", lookback), &v1alpha1.AnalysisRun{}},
		"no interval, no window": {func() v1alpha1.Metric { m := kMetric("http://kayenta", guestbook); m.Interval = ""; return m }(), nil},
		"no address":             {kMetric("", guestbook), nil},
	} {
		if out := newTestProvider().Run(context.Background(), tc.run, tc.m); out.Phase != v1alpha1.AnalysisPhaseError || out.ResumeAt != nil {
			t.Errorf("%s: %+v", name, out)
		}
	}
}

func TestConfigNotFound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `[{"id":"1","name":"other"}]`)
	}))
	defer srv.Close()
	out := newTestProvider().Run(context.Background(), nil, kMetric(srv.URL, guestbook))
	if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, `"my-test" not found`) {
		t.Fatalf("%+v", out)
	}
}

func TestServerErrorIsError(t *testing.T) {
	for _, failing := range []string{"/canaryConfig", "/canary/c0ffee-2"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == failing {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"error":"Internal Server Error","message":"storage unavailable"}`)
				return
			}
			(&fakeKayenta{t: t}).ServeHTTP(w, r)
		}))
		out := newTestProvider().Run(context.Background(), nil, kMetric(srv.URL, guestbook))
		srv.Close()
		if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "500") || out.ResumeAt != nil {
			t.Errorf("%s failing: %+v", failing, out)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer srv.Close()
	resume := metav1.NewTime(fixedNow)
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Metadata: map[string]string{ExecutionIDKey: "01HEXEC42"}, ResumeAt: &resume}
	out := newTestProvider().Resume(context.Background(), nil, kMetric(srv.URL, guestbook), in)
	if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "503") || out.ResumeAt != nil || out.Metadata[ExecutionIDKey] != "01HEXEC42" {
		t.Errorf("Resume: %+v", out)
	}
}

func TestUnreachableIsError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	address := srv.URL
	srv.Close()
	if out := newTestProvider().Run(context.Background(), nil, kMetric(address, guestbook)); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "kayenta: GET") {
		t.Fatalf("Run: %+v", out)
	}
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Metadata: map[string]string{ExecutionIDKey: "x"}}
	if out := newTestProvider().Resume(context.Background(), nil, kMetric(address, guestbook), in); out.Phase != v1alpha1.AnalysisPhaseError {
		t.Fatalf("Resume: %+v", out)
	}
}

func TestBadJSONIsError(t *testing.T) {
	for name, handler := range map[string]http.HandlerFunc{
		"config list": func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `[{"id":`) },
		"start answer": func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				_, _ = io.WriteString(w, `{"canaryExecutionId":`)
				return
			}
			_, _ = io.WriteString(w, `[{"id":"c0ffee-2","name":"my-test"}]`)
		},
		"no execution id": func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				_, _ = io.WriteString(w, `{"status":"ok"}`)
				return
			}
			_, _ = io.WriteString(w, `[{"id":"c0ffee-2","name":"my-test"}]`)
		},
	} {
		srv := httptest.NewServer(handler)
		out := newTestProvider().Run(context.Background(), nil, kMetric(srv.URL, guestbook))
		srv.Close()
		if out.Phase != v1alpha1.AnalysisPhaseError {
			t.Errorf("%s: %+v", name, out)
		}
	}
	for name, body := range map[string]string{
		"not JSON":            `{"complete":`,
		"no complete":         `{"status":"running"}`,
		"complete, no score":  `{"complete":true,"status":"terminal","exception":{"message":"metrics account not found"}}`,
		"complete, no result": `{"complete":true,"result":{"judgeResult":{}}}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
		in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Metadata: map[string]string{ExecutionIDKey: "x"}}
		out := newTestProvider().Resume(context.Background(), nil, kMetric(srv.URL, guestbook), in)
		srv.Close()
		if out.Phase != v1alpha1.AnalysisPhaseError {
			t.Errorf("%s: %+v", name, out)
		}
	}
}

func TestResumeWithoutExecutionID(t *testing.T) {
	out := newTestProvider().Resume(context.Background(), nil, kMetric("http://kayenta", guestbook), v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning})
	if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, ExecutionIDKey) {
		t.Fatalf("%+v", out)
	}
}

func TestTerminate(t *testing.T) {
	resume := metav1.NewTime(fixedNow)
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Metadata: map[string]string{ExecutionIDKey: "x"}, ResumeAt: &resume}
	out := newTestProvider().Terminate(context.Background(), nil, kMetric("http://kayenta", guestbook), in)
	if out.Phase != v1alpha1.AnalysisPhaseInconclusive || out.ResumeAt != nil || out.Message != "Metric Terminated" || out.Metadata[ExecutionIDKey] != "x" {
		t.Fatalf("%+v", out)
	}
	done := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "95"}
	if got := newTestProvider().Terminate(context.Background(), nil, kMetric("http://kayenta", guestbook), done); !reflect.DeepEqual(got, done) {
		t.Errorf("a finished measurement changed: %+v", got)
	}
}

func TestTypeMetadataGarbageCollect(t *testing.T) {
	p := New(nil)
	if p.Type() != "Kayenta" || p.Metadata(v1alpha1.Metric{}) != nil || p.GarbageCollect(context.Background(), nil, v1alpha1.Metric{}, 0) != nil {
		t.Error("Type, Metadata or GarbageCollect")
	}
}

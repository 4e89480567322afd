package wavefront

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

const (
	testToken = "wf-token-5b8e2d1a9c7f"
	ctrlNS    = "argo-rollouts"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testQuery = `sum(rate(5m, ts("istio.requestcount.count", response_code!=500)))`

// setup starts a TLS server answering with handler and returns a provider
// holding the token for it, plus the metric that queries it.
func setup(t *testing.T, rec *metrictest.Evaluator, handler http.HandlerFunc) (*Provider, v1alpha1.Metric) {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	address := srv.Listener.Addr().String()
	p := New(srv.Client(), metrictest.Secrets{ctrlNS + "/" + TokensSecretName: {address: testToken, "other.wavefront.com": "x-other-token"}}, ctrlNS, rec.Evaluate)
	p.now = func() time.Time { return fixedNow }
	m := v1alpha1.Metric{Name: "success-rate", SuccessCondition: "result >= 0.95", Provider: v1alpha1.MetricProvider{Wavefront: &v1alpha1.WavefrontMetric{Address: address, Query: testQuery}}}
	return p, m
}

func TestOneSeriesNearestPoint(t *testing.T) {
	now := fixedNow.Unix()
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v2/chart/api" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization %q", got)
		}
		q := r.URL.Query()
		ms := fmt.Sprint(now * 1000)
		want := map[string]string{"q": testQuery, "s": ms, "e": ms, "g": "s", "p": "1", "i": "true", "strict": "false"}
		for k, v := range want {
			if q.Get(k) != v {
				t.Errorf("parameter %s = %q, want %q", k, q.Get(k), v)
			}
		}
		fmt.Fprintf(w, `{"name":"q","query":"q","granularity":1,"hostsUsed":["h"],"stats":{"keys":1},
			"timeseries":[{"label":"istio.requestcount.count","host":"h","tags":{},"data":[[%d,0.9],[%d,0.97],[%d,null]]}]}`,
			now-120, now-20, now-1)
	})
	out := p.Run(context.Background(), nil, m)
	if out.Phase != v1alpha1.AnalysisPhaseSuccessful || out.Value != "0.97" || rec.Got != 0.97 {
		t.Fatalf("measurement %+v, evaluated %#v", out, rec.Got)
	}
	if out.Metadata["timestamps"] != fmt.Sprint(now-20) || out.Metadata["drift"] != "-20" {
		t.Errorf("metadata %v", out.Metadata)
	}
}

func TestSeveralSeriesAreAList(t *testing.T) {
	now := fixedNow.Unix()
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"warnings":"query was slow","timeseries":[
			{"label":"a","data":[[%d,1.234]]},
			{"label":"b","data":[[%d,2]]}]}`, now-30, now+5)
	})
	out := p.Run(context.Background(), nil, m)
	if out.Phase != v1alpha1.AnalysisPhaseSuccessful || out.Value != "[1.23,2.00]" {
		t.Fatalf("measurement %+v", out)
	}
	if !reflect.DeepEqual(rec.Got, []float64{1.234, 2}) {
		t.Errorf("evaluated %#v", rec.Got)
	}
	want := map[string]string{"warnings": "query was slow", "timestamps": fmt.Sprintf("[%d,%d]", now-30, now+5), "drift": "[-30,5]"}
	if !reflect.DeepEqual(out.Metadata, want) {
		t.Errorf("metadata %v", out.Metadata)
	}
}

func TestEmptyResultIsError(t *testing.T) {
	for _, body := range []string{`{"timeseries":[]}`, `{}`, `{"timeseries":[{"label":"a","data":[]}]}`, `{"timeseries":[{"label":"a","data":[[1,null]]}]}`} {
		rec := &metrictest.Evaluator{}
		p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) })
		out := p.Run(context.Background(), nil, m)
		if out.Phase != v1alpha1.AnalysisPhaseError || rec.Called {
			t.Errorf("%s: %+v", body, out)
		}
	}
}

func TestServerErrorIsError(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusUnauthorized, http.StatusNotAcceptable} {
		rec := &metrictest.Evaluator{}
		p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"status":{"result":"ERROR","message":"boom","code":500}}`)
		})
		out := p.Run(context.Background(), nil, m)
		if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, fmt.Sprint(status)) || rec.Called {
			t.Errorf("%d: %+v", status, out)
		}
	}
}

func TestUnreachableIsError(t *testing.T) {
	rec := &metrictest.Evaluator{}
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	address := srv.Listener.Addr().String()
	client := srv.Client()
	srv.Close()
	p := New(client, metrictest.Secrets{ctrlNS + "/" + TokensSecretName: {address: testToken}}, ctrlNS, rec.Evaluate)
	out := p.Run(context.Background(), nil, v1alpha1.Metric{Provider: v1alpha1.MetricProvider{Wavefront: &v1alpha1.WavefrontMetric{Address: address, Query: "q"}}})
	if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, address) || rec.Called {
		t.Fatalf("%+v", out)
	}
}

func TestBadJSONIsError(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"timeseries":[{`) })
	if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "not JSON") || rec.Called {
		t.Fatalf("%+v", out)
	}
}

func TestEvaluationErrorIsError(t *testing.T) {
	rec := &metrictest.Evaluator{Err: errors.New("could not evaluate")}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"timeseries":[{"label":"a","data":[[1,1]]}]}`)
	})
	if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || out.Message != "could not evaluate" {
		t.Fatalf("%+v", out)
	}
}

func TestMissingTokenNamesTheSecretWithoutContents(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p := New(nil, metrictest.Secrets{}, ctrlNS, rec.Evaluate)
	m := v1alpha1.Metric{Provider: v1alpha1.MetricProvider{Wavefront: &v1alpha1.WavefrontMetric{Address: "example.wavefront.com", Query: "q"}}}
	if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, ctrlNS+"/wavefront-api-tokens") || rec.Called {
		t.Fatalf("no Secret: %+v", out)
	}
	p = New(nil, metrictest.Secrets{ctrlNS + "/" + TokensSecretName: {"other.wavefront.com": testToken}}, ctrlNS, rec.Evaluate)
	out := p.Run(context.Background(), nil, m)
	if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "example.wavefront.com") || strings.Contains(out.Message, testToken) || rec.Called {
		t.Fatalf("no token for the address: %+v", out)
	}
}

func TestTokenNeverInMeasurement(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusUnauthorized} {
		rec := &metrictest.Evaluator{}
		p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			fmt.Fprintf(w, `{"warnings":"token %s is about to expire","timeseries":[{"label":"a","data":[[1,1]]}]}`, token)
		})
		out := p.Run(context.Background(), nil, m)
		raw, _ := json.Marshal(out)
		if strings.Contains(string(raw), testToken) || !strings.Contains(string(raw), "*****") {
			t.Errorf("%d: %s", status, raw)
		}
	}
}

func TestSynchronousMethods(t *testing.T) {
	p := New(nil, metrictest.Secrets{}, ctrlNS, nil)
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning}
	if !reflect.DeepEqual(p.Resume(context.Background(), nil, v1alpha1.Metric{}, in), in) || !reflect.DeepEqual(p.Terminate(context.Background(), nil, v1alpha1.Metric{}, in), in) {
		t.Error("Resume or Terminate changed the measurement")
	}
	if p.Type() != "Wavefront" || p.Metadata(v1alpha1.Metric{}) != nil || p.GarbageCollect(context.Background(), nil, v1alpha1.Metric{}, 0) != nil {
		t.Error("Type, Metadata or GarbageCollect")
	}
}

// TestDocumentedCondition runs the condition of Argo Rollouts' Wavefront
// example through the real evaluator.
func TestDocumentedCondition(t *testing.T) {
	for value, want := range map[string]v1alpha1.AnalysisPhase{"0.97": v1alpha1.AnalysisPhaseSuccessful, "0.9": v1alpha1.AnalysisPhaseFailed} {
		p, m := setup(t, &metrictest.Evaluator{}, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"timeseries":[{"label":"a","data":[[%d,%s]]}]}`, fixedNow.Unix(), value)
		})
		p.evaluate = metric.Evaluate
		if out := p.Run(context.Background(), nil, m); out.Phase != want {
			t.Errorf("%s: %+v, want %s", value, out, want)
		}
	}
}

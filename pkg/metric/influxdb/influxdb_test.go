package influxdb

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
	testToken = "influx-token-3c9a7e1d5b"
	ctrlNS    = "argo-rollouts"
)

const testFlux = `from(bucket: "app_istio")
  |> range(start: -15m)
  |> filter(fn: (r) => r["_measurement"] == "istio:istio_requests_errors_percentage:rate1m:5xx")`

// Two tables with different schemas, as InfluxDB writes them.
const twoTables = "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string\r\n" +
	"#group,false,false,true,true,false,false,true,true\r\n" +
	"#default,_result,,,,,,,\r\n" +
	",result,table,_start,_stop,_time,_value,_field,_measurement\r\n" +
	",,0,2026-03-01T11:45:00Z,2026-03-01T12:00:00Z,2026-03-01T11:50:00Z,0.004,rate,errors\r\n" +
	",,0,2026-03-01T11:45:00Z,2026-03-01T12:00:00Z,2026-03-01T11:55:00Z,0.0125,rate,errors\r\n" +
	"\r\n" +
	"#datatype,string,long,dateTime:RFC3339,long,string\r\n" +
	"#group,false,false,false,false,true\r\n" +
	"#default,_result,,,,\r\n" +
	",result,table,_time,_value,_field\r\n" +
	",,1,2026-03-01T11:55:00Z,42,count\r\n" +
	",,1,2026-03-01T11:56:00Z,,count\r\n" +
	"\r\n"

func setup(t *testing.T, rec *metrictest.Evaluator, handler http.HandlerFunc) (*Provider, v1alpha1.Metric) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	secrets := metrictest.Secrets{ctrlNS + "/influxdb": {addressKey: srv.URL, tokenKey: testToken, orgKey: "acme corp"}}
	p := New(nil, secrets, ctrlNS, rec.Evaluate)
	m := v1alpha1.Metric{Name: "error-rate", SuccessCondition: "result[0] <= 0.01", Provider: v1alpha1.MetricProvider{Influxdb: &v1alpha1.InfluxdbMetric{Query: testFlux}}}
	return p, m
}

func TestFluxQuery(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/query" || r.URL.Query().Get("org") != "acme corp" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		if got := r.Header.Get("Authorization"); got != "Token "+testToken {
			t.Errorf("Authorization %q", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type %q", got)
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"query": testFlux,
			"type":  "flux",
			"dialect": map[string]any{
				"annotations": []any{"datatype", "group", "default"},
				"delimiter":   ",",
				"header":      true,
			},
		}
		if !reflect.DeepEqual(body, want) {
			t.Errorf("body %v", body)
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_, _ = io.WriteString(w, twoTables)
	})
	out := p.Run(context.Background(), nil, m)
	if out.Phase != v1alpha1.AnalysisPhaseSuccessful || out.Value != "[0.004 0.0125 42 <nil>]" {
		t.Fatalf("measurement %+v", out)
	}
	if want := []any{0.004, 0.0125, int64(42), nil}; !reflect.DeepEqual(rec.Got, want) {
		t.Errorf("evaluated %#v", rec.Got)
	}
}

func TestAddressWithPath(t *testing.T) {
	rec := &metrictest.Evaluator{}
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		_, _ = io.WriteString(w, "#datatype,string,long,double\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n,,0,1\n")
	}))
	defer srv.Close()
	p := New(nil, metrictest.Secrets{ctrlNS + "/team": {addressKey: srv.URL + "/influx/", tokenKey: testToken, orgKey: "o"}}, ctrlNS, rec.Evaluate)
	out := p.Run(context.Background(), nil, v1alpha1.Metric{Provider: v1alpha1.MetricProvider{Influxdb: &v1alpha1.InfluxdbMetric{Profile: "team", Query: "q"}}})
	if out.Phase != v1alpha1.AnalysisPhaseSuccessful || path != "/influx/api/v2/query" || out.Value != "[1]" {
		t.Fatalf("%+v at %s", out, path)
	}
}

func TestDatatypes(t *testing.T) {
	csv := "#datatype,string,long,string,boolean,unsignedLong,dateTime:RFC3339Nano,duration\n" +
		"#group,false,false,false,false,false,false,false\n" +
		"#default,_result,,,,,,\n" +
		",result,table,_value,ok,n,_time,d\n" +
		",,0,up,true,7,2026-03-01T12:00:00.5Z,1m\n"
	values, err := parseValues([]byte(csv))
	if err != nil || !reflect.DeepEqual(values, []any{"up"}) {
		t.Fatalf("%#v, %v", values, err)
	}
	for datatype, want := range map[string]any{
		"boolean":              false,
		"unsignedLong":         uint64(7),
		"dateTime:RFC3339Nano": time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC),
		"duration":             time.Minute,
		"base64Binary":         []byte("hi"),
	} {
		cell := map[string]string{"boolean": "false", "unsignedLong": "7", "dateTime:RFC3339Nano": "2026-03-01T12:00:00.5Z", "duration": "1m", "base64Binary": "aGk="}[datatype]
		got, err := convert(cell, datatype)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v, %v", datatype, got, err)
		}
	}
}

func TestEmptyResultIsError(t *testing.T) {
	for _, body := range []string{"", "\r\n", "#datatype,string,long,double\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n"} {
		rec := &metrictest.Evaluator{}
		p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) })
		out := p.Run(context.Background(), nil, m)
		if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "no results") || rec.Called {
			t.Errorf("%q: %+v", body, out)
		}
	}
}

func TestQueryErrorTableIsError(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,\"failed to execute query: bucket \"\"app\"\" not found\",897\n")
	})
	out := p.Run(context.Background(), nil, m)
	if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, `bucket "app" not found`) || !strings.Contains(out.Message, "897") || rec.Called {
		t.Fatalf("%+v", out)
	}
}

func TestServerErrorIsError(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadRequest, http.StatusUnauthorized} {
		rec := &metrictest.Evaluator{}
		p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"code":"invalid","message":"compilation failed: error at @1:1-1:5"}`)
		})
		out := p.Run(context.Background(), nil, m)
		if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, fmt.Sprint(status)) || !strings.Contains(out.Message, "compilation failed") || rec.Called {
			t.Errorf("%d: %+v", status, out)
		}
	}
}

func TestUnreachableIsError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	address := srv.URL
	srv.Close()
	rec := &metrictest.Evaluator{}
	p := New(nil, metrictest.Secrets{ctrlNS + "/influxdb": {addressKey: address, tokenKey: testToken, orgKey: "o"}}, ctrlNS, rec.Evaluate)
	out := p.Run(context.Background(), nil, v1alpha1.Metric{Provider: v1alpha1.MetricProvider{Influxdb: &v1alpha1.InfluxdbMetric{Query: "q"}}})
	if out.Phase != v1alpha1.AnalysisPhaseError || !strings.HasPrefix(out.Message, "influxdb: POST") || rec.Called {
		t.Fatalf("%+v", out)
	}
}

func TestBadCSVIsError(t *testing.T) {
	for _, body := range []string{
		",result,table,_value\n,,0,1\n",                               // no annotations
		"#group,false,false,false\n,result,table,_value\n,,0,1\n",     // no datatype
		"#datatype,string,long,double\n,result,table,_value\n,,0,x\n", // not a double
		"#datatype,string,long,double\n,result,table,_value\n,,0\n",   // short row
		"#datatype,string,long,bogus\n,result,table,_value\n,,0,1\n",  // unknown type
		"<html>proxy error</html>\n",
	} {
		rec := &metrictest.Evaluator{}
		p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) })
		if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || rec.Called {
			t.Errorf("%q: %+v", body, out)
		}
	}
}

func TestEvaluationErrorIsError(t *testing.T) {
	rec := &metrictest.Evaluator{Err: errors.New("could not evaluate")}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, twoTables) })
	if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || out.Message != "could not evaluate" {
		t.Fatalf("%+v", out)
	}
}

func TestMissingSecretNamesItWithoutItsContents(t *testing.T) {
	rec := &metrictest.Evaluator{}
	m := v1alpha1.Metric{Provider: v1alpha1.MetricProvider{Influxdb: &v1alpha1.InfluxdbMetric{Query: "q"}}}
	p := New(nil, metrictest.Secrets{}, ctrlNS, rec.Evaluate)
	if out := p.Run(context.Background(), nil, m); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, ctrlNS+"/influxdb") || rec.Called {
		t.Fatalf("no Secret: %+v", out)
	}
	p = New(nil, metrictest.Secrets{ctrlNS + "/influxdb": {tokenKey: testToken}}, ctrlNS, rec.Evaluate)
	out := p.Run(context.Background(), nil, m)
	if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "org, address") || strings.Contains(out.Message, testToken) || rec.Called {
		t.Fatalf("incomplete Secret: %+v", out)
	}
}

func TestTokenNeverInMeasurement(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusUnauthorized} {
		rec := &metrictest.Evaluator{}
		p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
			token := strings.TrimPrefix(r.Header.Get("Authorization"), "Token ")
			w.WriteHeader(status)
			if status == http.StatusOK {
				fmt.Fprintf(w, "#datatype,string,long,string\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n,,0,%s\n", token)
				return
			}
			fmt.Fprintf(w, `{"code":"unauthorized","message":"token %s is invalid"}`, token)
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
	if p.Type() != "Influxdb" || p.Metadata(v1alpha1.Metric{}) != nil || p.GarbageCollect(context.Background(), nil, v1alpha1.Metric{}, 0) != nil {
		t.Error("Type, Metadata or GarbageCollect")
	}
}

// TestDocumentedCondition runs the condition of Argo Rollouts' InfluxDB
// example through the real evaluator.
func TestDocumentedCondition(t *testing.T) {
	for value, want := range map[string]v1alpha1.AnalysisPhase{"0.004": v1alpha1.AnalysisPhaseSuccessful, "0.5": v1alpha1.AnalysisPhaseFailed} {
		p, m := setup(t, &metrictest.Evaluator{}, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "#datatype,string,long,double\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n,,0,%s\n", value)
		})
		p.evaluate = metric.Evaluate
		if out := p.Run(context.Background(), nil, m); out.Phase != want {
			t.Errorf("%s: %+v, want %s", value, out, want)
		}
	}
}

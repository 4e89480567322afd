package cloudwatch

import (
	"bytes"
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

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
	"github.com/serin-dev/serin/pkg/sigv4"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken  = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// staticCreds is a credential source that always answers the same.
type staticCreds struct {
	creds sigv4.Credentials
	err   error
}

func (s staticCreds) Retrieve(context.Context) (sigv4.Credentials, error) { return s.creds, s.err }

func ptr[T any](v T) *T { return &v }

// The queries of Argo Rollouts' CloudWatch example.
var exampleQueries = []v1alpha1.CloudWatchMetricDataQuery{
	{Id: "rate", Expression: ptr("errors / requests")},
	{
		Id: "errors",
		MetricStat: &v1alpha1.CloudWatchMetricStat{
			Metric: v1alpha1.CloudWatchMetricStatMetric{Namespace: ptr("app"), MetricName: "errors", Dimensions: []v1alpha1.CloudWatchMetricStatMetricDimension{{Name: "Service", Value: "shop"}}},
			Period: intstr.FromInt32(300),
			Stat:   "Sum",
			Unit:   "Count",
		},
		ReturnData: ptr(false),
	},
	{
		Id:         "requests",
		MetricStat: &v1alpha1.CloudWatchMetricStat{Metric: v1alpha1.CloudWatchMetricStatMetric{Namespace: ptr("app"), MetricName: "requests"}, Period: intstr.FromString("300"), Stat: "Sum"},
		ReturnData: ptr(false),
		Period:     ptr(intstr.FromInt32(60)),
	},
}

func cwMetric(interval v1alpha1.DurationString) v1alpha1.Metric {
	return v1alpha1.Metric{
		Name:             "success-rate",
		SuccessCondition: "len(result[0].Values) >= 5 and all(result[0].Values, {# <= 0.01})",
		Provider:         v1alpha1.MetricProvider{CloudWatch: &v1alpha1.CloudWatchMetric{Interval: interval, MetricDataQueries: exampleQueries}},
	}
}

// setup starts a fake CloudWatch answering with handler, after checking
// that each request is a correctly signed GetMetricData call.
func setup(t *testing.T, eval metric.EvaluateFunc, handler http.HandlerFunc) *Provider {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checkSigned(t, r)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	p := New(srv.Client(), eval)
	p.creds = staticCreds{creds: sigv4.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: testToken}}
	p.env = func(k string) (string, bool) {
		v, ok := map[string]string{sigv4.EnvRegion: "eu-west-1", "AWS_ENDPOINT_URL_CLOUDWATCH": srv.URL}[k]
		return v, ok
	}
	p.now = func() time.Time { return fixedNow }
	return p
}

// checkSigned verifies the request as CloudWatch would: the operation
// headers, and a signature that the same key reproduces.
func checkSigned(t *testing.T, r *http.Request) {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("X-Amz-Target"); got != "GraniteServiceVersion20100801.GetMetricData" {
		t.Errorf("X-Amz-Target %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-amz-json-1.0" {
		t.Errorf("Content-Type %q", got)
	}
	if got := r.Header.Get("X-Amz-Security-Token"); got != testToken {
		t.Errorf("X-Amz-Security-Token %q", got)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date: %v", err)
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for k, v := range r.Header {
		if k != "Authorization" && k != "Accept-Encoding" {
			again.Header[k] = v
		}
	}
	if err := sigv4.Sign(again, body, sigv4.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: testToken}, "eu-west-1", "monitoring", at); err != nil {
		t.Fatal(err)
	}
	got := r.Header.Get("Authorization")
	if got != again.Header.Get("Authorization") || !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential="+testKeyID+"/20260301/eu-west-1/monitoring/aws4_request, ") {
		t.Errorf("Authorization %s\nexpected %s", got, again.Header.Get("Authorization"))
	}
}

const exampleAnswer = `{"MetricDataResults":[{"Id":"rate","Label":"rate","StatusCode":"Complete",
	"Timestamps":[1772366100,1772365800.5],"Values":[0.0029476787030213707,0.006100422336931018]}],
	"Messages":[]}`

func TestGetMetricData(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p := setup(t, rec.Evaluate, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"StartTime": float64(fixedNow.Add(-30 * time.Minute).Unix()),
			"EndTime":   float64(fixedNow.Unix()),
			"MetricDataQueries": []any{
				map[string]any{"Id": "rate", "Expression": "errors / requests"},
				map[string]any{"Id": "errors", "ReturnData": false, "MetricStat": map[string]any{
					"Metric": map[string]any{"Namespace": "app", "MetricName": "errors", "Dimensions": []any{map[string]any{"Name": "Service", "Value": "shop"}}},
					"Period": 300.0, "Stat": "Sum", "Unit": "Count",
				}},
				map[string]any{"Id": "requests", "ReturnData": false, "Period": 60.0, "MetricStat": map[string]any{
					"Metric": map[string]any{"Namespace": "app", "MetricName": "requests"},
					"Period": 300.0, "Stat": "Sum",
				}},
			},
		}
		if !reflect.DeepEqual(body, want) {
			t.Errorf("body\n got %v\nwant %v", body, want)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, exampleAnswer)
	})
	out := p.Run(context.Background(), nil, cwMetric("30m"))
	if out.Phase != v1alpha1.AnalysisPhaseSuccessful || out.Value != "[[0.0029476787030213707 0.006100422336931018]]" || out.Metadata != nil {
		t.Fatalf("measurement %+v", out)
	}
	want := []MetricDataResult{{
		Id: ptr("rate"), Label: ptr("rate"), StatusCode: "Complete",
		Timestamps: []time.Time{time.Unix(1772366100, 0).UTC(), time.Unix(1772365800, 500_000_000).UTC()},
		Values:     []float64{0.0029476787030213707, 0.006100422336931018},
	}}
	if !reflect.DeepEqual(rec.Got, want) {
		t.Errorf("evaluated %#v", rec.Got)
	}
}

func TestDefaultIntervalAndMessages(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p := setup(t, rec.Evaluate, func(w http.ResponseWriter, r *http.Request) {
		var body getMetricDataInput
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.StartTime != fixedNow.Add(-5*time.Minute).Unix() {
			t.Errorf("StartTime %d", body.StartTime)
		}
		_, _ = io.WriteString(w, `{"MetricDataResults":[
			{"Id":"a","StatusCode":"PartialData","Timestamps":[],"Values":[],"Messages":[{"Code":"MaxDatapointsExceeded","Value":"too many"}]},
			{"Id":"b","StatusCode":"Complete","Timestamps":[1772366100],"Values":[3]}],
			"Messages":[{"Code":"Warning","Value":"slow query"}],"NextToken":"tok"}`)
	})
	out := p.Run(context.Background(), nil, cwMetric(""))
	if out.Phase != v1alpha1.AnalysisPhaseSuccessful || out.Value != "[[] [3]]" || out.Metadata["messages"] != "[{Code:Warning Value:slow query}]" {
		t.Fatalf("measurement %+v", out)
	}
	got := rec.Got.([]MetricDataResult)
	if len(got) != 2 || got[0].StatusCode != "PartialData" || *got[0].Messages[0].Code != "MaxDatapointsExceeded" || len(got[0].Values) != 0 || got[0].Values == nil {
		t.Errorf("evaluated %#v", got)
	}
}

// TestDocumentedCondition runs the condition of Argo Rollouts' CloudWatch
// example through the real evaluator.
func TestDocumentedCondition(t *testing.T) {
	for values, want := range map[string]v1alpha1.AnalysisPhase{
		"[0.001,0.002,0.003,0.004,0.005]": v1alpha1.AnalysisPhaseSuccessful,
		"[0.001,0.002,0.003,0.004,0.05]":  v1alpha1.AnalysisPhaseFailed,
		"[0.001]":                         v1alpha1.AnalysisPhaseFailed,
	} {
		p := setup(t, metric.Evaluate, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"MetricDataResults":[{"Id":"rate","StatusCode":"Complete","Values":%s}]}`, values)
		})
		if out := p.Run(context.Background(), nil, cwMetric("")); out.Phase != want {
			t.Errorf("%s: %+v, want %s", values, out, want)
		}
	}
}

func TestEmptyResult(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p := setup(t, rec.Evaluate, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"MetricDataResults":[],"Messages":[]}`)
	})
	out := p.Run(context.Background(), nil, cwMetric(""))
	if out.Value != "[]" || !rec.Called || !reflect.DeepEqual(rec.Got, []MetricDataResult{}) {
		t.Fatalf("measurement %+v, evaluated %#v", out, rec.Got)
	}
	// With the real evaluator, the documented condition cannot index an
	// empty result: an Error, never a success.
	p = setup(t, metric.Evaluate, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"MetricDataResults":[]}`)
	})
	if out := p.Run(context.Background(), nil, cwMetric("")); out.Phase != v1alpha1.AnalysisPhaseError {
		t.Fatalf("documented condition on no data: %+v", out)
	}
}

func TestServiceErrorsAreErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		header string
		body   string
		want   string
	}{
		{http.StatusBadRequest, "InvalidParameterValue;Sender", `{"__type":"com.amazonaws.cloudwatch#InvalidParameterValueException","message":"The value errors / requests for parameter MetricDataQueries is invalid."}`, "InvalidParameterValue: The value errors"},
		{http.StatusForbidden, "", `{"__type":"AccessDeniedException","Message":"User is not authorized to perform: cloudwatch:GetMetricData"}`, "AccessDeniedException: User is not authorized"},
		{http.StatusInternalServerError, "", `{"__type":"InternalServiceFault","message":"internal error"}`, "500"},
		{http.StatusServiceUnavailable, "", `<html>unavailable</html>`, "unavailable"},
	} {
		rec := &metrictest.Evaluator{}
		p := setup(t, rec.Evaluate, func(w http.ResponseWriter, r *http.Request) {
			if tc.header != "" {
				w.Header().Set("X-Amzn-Query-Error", tc.header)
			}
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		})
		out := p.Run(context.Background(), nil, cwMetric(""))
		if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, tc.want) || !strings.Contains(out.Message, fmt.Sprint(tc.status)) || rec.Called {
			t.Errorf("%d: %+v", tc.status, out)
		}
	}
}

func TestUnreachableIsError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	address := srv.URL
	srv.Close()
	rec := &metrictest.Evaluator{}
	p := New(nil, rec.Evaluate)
	p.creds = staticCreds{creds: sigv4.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}}
	p.env = func(k string) (string, bool) {
		v, ok := map[string]string{sigv4.EnvDefaultRegion: "us-east-1", sigv4.EnvEndpointURL: address}[k]
		return v, ok
	}
	out := p.Run(context.Background(), nil, cwMetric(""))
	if out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "GetMetricData: POST "+address) || rec.Called {
		t.Fatalf("%+v", out)
	}
}

func TestBadJSONIsError(t *testing.T) {
	for _, body := range []string{`{"MetricDataResults":[`, `{"MetricDataResults":[{"Id":"a","Timestamps":["yesterday"]}]}`} {
		rec := &metrictest.Evaluator{}
		p := setup(t, rec.Evaluate, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) })
		if out := p.Run(context.Background(), nil, cwMetric("")); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "cannot be read") || rec.Called {
			t.Errorf("%s: %+v", body, out)
		}
	}
}

func TestEvaluationErrorIsError(t *testing.T) {
	rec := &metrictest.Evaluator{Err: errors.New("could not evaluate")}
	p := setup(t, rec.Evaluate, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, exampleAnswer) })
	if out := p.Run(context.Background(), nil, cwMetric("")); out.Phase != v1alpha1.AnalysisPhaseError || out.Message != "could not evaluate" || out.Value == "" {
		t.Fatalf("%+v", out)
	}
}

func TestMissingRegionOrCredentials(t *testing.T) {
	rec := &metrictest.Evaluator{}
	p := New(nil, rec.Evaluate)
	p.env = func(string) (string, bool) { return "", false }
	if out := p.Run(context.Background(), nil, cwMetric("")); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "AWS_REGION") {
		t.Errorf("no region: %+v", out)
	}
	p.env = func(k string) (string, bool) { return "us-east-1", k == sigv4.EnvRegion }
	p.creds = staticCreds{err: errors.New("no AWS credentials: none in the environment")}
	if out := p.Run(context.Background(), nil, cwMetric("")); out.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(out.Message, "no AWS credentials") || rec.Called {
		t.Errorf("no credentials: %+v", out)
	}
	if out := p.Run(context.Background(), nil, cwMetric("thirty minutes")); out.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("bad interval: %+v", out)
	}
}

func TestCredentialsNeverInMeasurement(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusForbidden} {
		rec := &metrictest.Evaluator{}
		p := setup(t, rec.Evaluate, func(w http.ResponseWriter, r *http.Request) {
			token := r.Header.Get("X-Amz-Security-Token")
			w.WriteHeader(status)
			if status == http.StatusOK {
				fmt.Fprintf(w, `{"MetricDataResults":[],"Messages":[{"Code":"Debug","Value":"token %s, secret %s"}]}`, token, testSecret)
				return
			}
			fmt.Fprintf(w, `{"__type":"InvalidClientTokenId","message":"The security token %s is invalid"}`, token)
		})
		out := p.Run(context.Background(), nil, cwMetric(""))
		raw, _ := json.Marshal(out)
		if strings.Contains(string(raw), testToken) || strings.Contains(string(raw), testSecret) || !strings.Contains(string(raw), "*****") {
			t.Errorf("%d: %s", status, raw)
		}
	}
}

// TestEnvironmentCredentials signs with keys taken from the environment
// through the real credential chain.
func TestEnvironmentCredentials(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		_, _ = io.WriteString(w, exampleAnswer)
	}))
	defer srv.Close()
	env := map[string]string{sigv4.EnvAccessKeyID: "AKIAFROMENV", sigv4.EnvSecretAccessKey: "secret-from-env", sigv4.EnvRegion: "us-west-2", sigv4.EnvEndpointURL: srv.URL}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	p := New(nil, (&metrictest.Evaluator{}).Evaluate)
	p.env = lookup
	p.creds = &sigv4.Chain{Env: lookup}
	if out := p.Run(context.Background(), nil, cwMetric("")); out.Phase != v1alpha1.AnalysisPhaseSuccessful || !strings.Contains(auth, "Credential=AKIAFROMENV/") || !strings.Contains(auth, "/us-west-2/monitoring/aws4_request") {
		t.Fatalf("%+v with %s", out, auth)
	}
}

func TestSynchronousMethods(t *testing.T) {
	p := New(nil, nil)
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning}
	if !reflect.DeepEqual(p.Resume(context.Background(), nil, v1alpha1.Metric{}, in), in) || !reflect.DeepEqual(p.Terminate(context.Background(), nil, v1alpha1.Metric{}, in), in) {
		t.Error("Resume or Terminate changed the measurement")
	}
	if p.Type() != "CloudWatch" || p.Metadata(v1alpha1.Metric{}) != nil || p.GarbageCollect(context.Background(), nil, v1alpha1.Metric{}, 0) != nil {
		t.Error("Type, Metadata or GarbageCollect")
	}
}

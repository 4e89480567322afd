package backtest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var hour = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// recorded is a recorded success rate: a good hour, then a bad one in which
// the rate drops to 0.8 from 11:20 to 11:40.
func recorded(t time.Time) float64 {
	if !t.Before(hour.Add(80*time.Minute)) && t.Before(hour.Add(100*time.Minute)) {
		return 0.8
	}
	return 0.995
}

// fakePrometheus answers instant queries from the recorded series, at the
// time the query asks for, and remembers the queries.
func fakePrometheus(t *testing.T, queries *[]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.Path != "/api/v1/query" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		sec, err := strconv.ParseFloat(r.Form.Get("time"), 64)
		if err != nil {
			http.Error(w, "no time", http.StatusBadRequest)
			return
		}
		*queries = append(*queries, r.Form.Get("query"))
		v := recorded(time.Unix(int64(sec), 0).UTC())
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%v,"%v"]}]}}`, sec, v)
	}))
}

func successRate(address string) templates.Set {
	three := intstr.FromInt32(3)
	return templates.Set{Templates: []*v1alpha1.AnalysisTemplate{{Spec: v1alpha1.AnalysisTemplateSpec{
		Args: []v1alpha1.Argument{{Name: "service"}},
		Metrics: []v1alpha1.Metric{{Name: "success-rate", Interval: "1m", Count: &three, SuccessCondition: "result[0] >= 0.99",
			Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: address,
				Query: `success_rate{service="{{args.service}}"}`}}}},
	}}}}
}

// Runs started every 20 minutes over two hours measure three times, a
// minute apart, as of their own time: those whose measurements fall in the
// bad stretch fail on the first low value, the others pass; the summary
// counts them, and the query had the argument substituted.
func TestBacktestReplaysEachStartAgainstTheRecordedSeries(t *testing.T) {
	var queries []string
	srv := fakePrometheus(t, &queries)
	defer srv.Close()
	service := "guestbook-canary"
	r, err := Run(context.Background(), Input{Templates: successRate(srv.URL), Args: []v1alpha1.Argument{{Name: "service", Value: &service}},
		From: hour, To: hour.Add(2 * time.Hour), Step: 20 * time.Minute, Now: hour.Add(3 * time.Hour), Measure: PrometheusMeasurer("")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range r.Starts {
		got = append(got, s.At.Format("15:04")+"="+s.Phase)
	}
	want := "10:00=Successful 10:20=Successful 10:40=Successful 11:00=Successful 11:20=Failed 11:40=Successful 12:00=Successful"
	if strings.Join(got, " ") != want {
		t.Fatalf("verdicts = %s\nwant      %s", strings.Join(got, " "), want)
	}
	failed := r.Starts[4]
	if len(failed.Deciding) != 1 || failed.Deciding[0].Value != "[0.8]" || !failed.Deciding[0].At.Equal(hour.Add(80*time.Minute)) {
		t.Fatalf("deciding values of the failed run = %+v, want 0.8 at 11:20", failed.Deciding)
	}
	if r.Summary != (Summary{Total: 7, Successful: 6, Failed: 1}) {
		t.Fatalf("summary = %+v", r.Summary)
	}
	if queries[0] != `success_rate{service="guestbook-canary"}` {
		t.Fatalf("query = %q", queries[0])
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil || !strings.Contains(buf.String(), "1 (14%) Failed") {
		t.Fatalf("text = %s (%v)", buf.String(), err)
	}
}

// A run whose measurements would lie after now has no verdict yet.
func TestRunsReachingIntoTheFutureHaveNoVerdict(t *testing.T) {
	var queries []string
	srv := fakePrometheus(t, &queries)
	defer srv.Close()
	service := "x"
	r, err := Run(context.Background(), Input{Templates: successRate(srv.URL), Args: []v1alpha1.Argument{{Name: "service", Value: &service}},
		From: hour, To: hour, Step: time.Hour, Now: hour.Add(90 * time.Second), Measure: PrometheusMeasurer("")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Starts[0].Phase != "Running" || r.Summary.Running != 1 || len(queries) != 2 {
		t.Fatalf("start = %+v, %d queries; want Running after 2", r.Starts[0], len(queries))
	}
}

// Providers that cannot answer for the past, and bad ranges, are refused
// up front with a message naming the problem.
func TestUnsupportedProvidersAndBadRanges(t *testing.T) {
	web := templates.Set{Templates: []*v1alpha1.AnalysisTemplate{{Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{
		{Name: "health", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: "http://x"}}}}}}}}
	dd := templates.Set{Templates: []*v1alpha1.AnalysisTemplate{{Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{
		{Name: "errors", Provider: v1alpha1.MetricProvider{Datadog: &v1alpha1.DatadogMetric{Query: "q"}}}}}}}}
	for name, tc := range map[string]struct {
		in   Input
		want string
	}{
		"web":       {Input{Templates: web, From: hour, To: hour, Step: time.Hour}, "not supported for provider web"},
		"datadog":   {Input{Templates: dd, From: hour, To: hour, Step: time.Hour}, "not supported for provider datadog"},
		"no step":   {Input{Templates: web, From: hour, To: hour}, "--step must be positive"},
		"backwards": {Input{Templates: web, From: hour, To: hour.Add(-time.Hour), Step: time.Hour}, "is before --from"},
		"too many":  {Input{Templates: web, From: hour, To: hour.Add(24 * time.Hour), Step: time.Second}, "use a larger --step"},
	} {
		if _, err := Run(context.Background(), tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want %q", name, err, tc.want)
		}
	}
}

package fault

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var analysisRuns = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "analysisruns"}

// faultRun measures a stub Prometheus three times, a second apart, with a
// 1s query timeout; the first error, failure or inconclusive result ends it.
const faultRun = `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: fault
spec:
  metrics:
  - name: rate
    interval: 1s
    count: 3
    consecutiveErrorLimit: 0
    failureLimit: 0
    inconclusiveLimit: 0
    successCondition: result[0] >= 0.9
%s    provider:
      prometheus:
        address: %s
        query: success_rate
        timeout: 1
`

// stubPrometheus answers every query with one fixed response.
func stubPrometheus(t *testing.T, status int, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// hangingPrometheus answers no query: each waits until its client gives up.
func hangingPrometheus(t *testing.T) string {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv.URL
}

// closedPort is an address where nothing listens: connections are refused.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

const (
	nanVector   = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"NaN"]}]}}`
	emptyVector = `{"status":"success","data":{"resultType":"vector","result":[]}}`
)

// TestPrometheusFaultsNeverPassAnAnalysis: a Prometheus that answers 503,
// hangs past the metric's timeout, refuses connections, returns NaN or
// returns no series never yields a Successful measurement; each ends the
// run in the phase its condition dictates.
func TestPrometheusFaultsNeverPassAnAnalysis(t *testing.T) {
	prom := func(status int, body string) func(*testing.T) string {
		return func(t *testing.T) string { return stubPrometheus(t, status, body) }
	}
	cases := []struct {
		name    string
		address func(*testing.T) string
		extra   string // more metric fields
		want    v1alpha1.AnalysisPhase
		says    string // in each measurement's value or message
	}{
		{"503", prom(503, "unavailable"), "", v1alpha1.AnalysisPhaseError, "503"},
		{"hangs past the timeout", hangingPrometheus, "", v1alpha1.AnalysisPhaseError, "context deadline exceeded"},
		{"refuses connections", closedPort, "", v1alpha1.AnalysisPhaseError, "connection refused"},
		{"NaN", prom(200, nanVector), "", v1alpha1.AnalysisPhaseFailed, "[NaN]"},
		{"NaN with a failureCondition too", prom(200, nanVector), "    failureCondition: result[0] < 0.5\n", v1alpha1.AnalysisPhaseInconclusive, "[NaN]"},
		{"empty vector", prom(200, emptyVector), "", v1alpha1.AnalysisPhaseError, "no data returned"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := framework.New(t)
			f.Create(analysisRuns, fmt.Sprintf(faultRun, tc.extra, tc.address(t)))
			run := waitForRunEnd(f, "fault")
			ms := run.Status.MetricResults
			if run.Status.Phase != tc.want || len(ms) != 1 || len(ms[0].Measurements) == 0 {
				t.Fatalf("run %s (%q), results %+v; want %s after a measurement", run.Status.Phase, run.Status.Message, ms, tc.want)
			}
			for _, m := range ms[0].Measurements {
				if m.Phase != tc.want || !strings.Contains(m.Value+" "+m.Message, tc.says) {
					t.Errorf("measurement %s (value %q, message %q), want %s saying %q", m.Phase, m.Value, m.Message, tc.want, tc.says)
				}
			}
		})
	}
}

// waitForRunEnd waits until an AnalysisRun has finished.
func waitForRunEnd(f *framework.T, name string) *v1alpha1.AnalysisRun {
	f.Helper()
	deadline := time.Now().Add(framework.DefaultTimeout)
	for {
		run := f.AnalysisRuns()[name]
		if run != nil && run.Status.Phase.Completed() {
			return run
		}
		if time.Now().After(deadline) {
			f.Fatalf("AnalysisRun %s did not finish: %+v", name, run)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

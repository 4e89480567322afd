package prometheus

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
)

// vectorOf is a query answer with n samples.
func vectorOf(n int) string {
	samples := make([]string, n)
	for i := range samples {
		samples[i] = fmt.Sprintf(`{"metric":{"pod":"pod-%d"},"value":[1767268800,"%d.5"]}`, i, i)
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}}`
}

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	body := vectorOf(25000)
	if len(body) <= httpclient.MaxResponseBytes {
		t.Fatalf("the answer has only %d bytes", len(body))
	}
	s := promServer(t, body, nil)
	got := measure(t, metricFor(s.URL, "up", "true"), Options{})
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "response body exceeds 1048576 bytes") || got.Value != "" {
		t.Errorf("got %s %q and a value of %d bytes, want an Error naming the cap", got.Phase, got.Message, len(got.Value))
	}
}

// The OAuth2 token request ends with the measurement's context, even
// though the Prometheus client sets no timeout of its own.
func TestTokenRequestHonoursTheContext(t *testing.T) {
	asked := make(chan struct{}, 1)
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server notices a closed connection once the body is read
		asked <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(token.Close)
	s := promServer(t, vector99, nil)
	m := metricFor(s.URL, "up", "result[0] > 0")
	m.Provider.Prometheus.Authentication.OAuth2 = v1alpha1.OAuth2Config{TokenURL: token.URL, ClientID: "id", ClientSecret: "secret"}
	p, err := New(m, Options{Clock: clocktesting.NewFakePassiveClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan v1alpha1.Measurement, 1)
	go func() { done <- p.Run(ctx, &v1alpha1.AnalysisRun{}, m) }()
	<-asked
	cancel()
	got := <-done
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "context canceled") {
		t.Errorf("got %s %q, want an Error for the cancelled context", got.Phase, got.Message)
	}
}

// A timeout above the ceiling is lowered to it, and the measurement says so.
func TestTimeoutAboveTheCeilingIsLowered(t *testing.T) {
	s := promServer(t, vector99, nil)
	for _, seconds := range []int64{3600, math.MaxInt64} {
		m := metricFor(s.URL, "up", "result[0] > 0")
		m.Provider.Prometheus.Timeout = &seconds
		p, err := New(m, Options{Clock: clocktesting.NewFakePassiveClock(now)})
		if err != nil {
			t.Fatal(err)
		}
		if p.timeout != httpclient.MaxTimeout {
			t.Errorf("timeout %d: %v, want %v", seconds, p.timeout, httpclient.MaxTimeout)
		}
		got := p.Run(context.Background(), &v1alpha1.AnalysisRun{}, m)
		note := fmt.Sprintf("timeout %ds is above the 5m0s ceiling; 5m0s is used", seconds)
		if got.Phase != v1alpha1.AnalysisPhaseSuccessful || got.Metadata[metric.TimeoutNoteKey] != note {
			t.Errorf("timeout %d: got %s %q %v", seconds, got.Phase, got.Message, got.Metadata)
		}
	}
}

// A vector of many samples is recorded as its first elements and a count;
// the condition still sees every sample.
func TestALongVectorIsSummarised(t *testing.T) {
	s := promServer(t, vectorOf(1000), nil)
	got := measure(t, metricFor(s.URL, "up", "len(result) == 1000 && result[999] == 999.5"), Options{})
	shown := make([]string, metric.MaxListItems)
	for i := range shown {
		shown[i] = fmt.Sprintf("%d.5", i)
	}
	want := "[" + strings.Join(shown, ",") + ",... 950 more, 1000 in all]"
	if got.Phase != v1alpha1.AnalysisPhaseSuccessful || got.Value != want {
		t.Errorf("got %s %q, want Successful %q", got.Phase, got.Value, want)
	}
}

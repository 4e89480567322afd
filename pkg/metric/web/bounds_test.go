package web

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
)

// A body above the response cap is an Error measurement that names the cap,
// not a multi-megabyte Value.
func TestABodyAboveTheCapIsAnError(t *testing.T) {
	big := `"` + strings.Repeat("x", 3_400_000) + `"`
	s := serve(t, http.StatusOK, big)
	got := run(t, webMetric(s.URL, nil))
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "response body exceeds 1048576 bytes") {
		t.Errorf("got %s %q, want Error naming the 1048576-byte cap", got.Phase, got.Message)
	}
	if got.Value != "" {
		t.Errorf("value has %d bytes, want none", len(got.Value))
	}
}

// The OAuth2 token request honours the measurement's context: a token
// server that never answers does not hold the measurement once the context
// is cancelled.
func TestTokenRequestHonoursTheContext(t *testing.T) {
	asked := make(chan struct{}, 1)
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server notices a closed connection once the body is read
		asked <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(token.Close)
	s := serve(t, http.StatusOK, `{"ok":true}`)
	m := webMetric(s.URL, func(w *v1alpha1.WebMetric) {
		w.TimeoutSeconds = 3600
		w.Authentication.OAuth2 = v1alpha1.OAuth2Config{TokenURL: token.URL, ClientID: "id", ClientSecret: "secret"}
	})
	p, err := New(m)
	if err != nil {
		t.Fatalf("New: %v", err)
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

// A timeoutSeconds above the ceiling is lowered to it (even one that would
// overflow a time.Duration), and the measurement says so.
func TestTimeoutAboveTheCeilingIsLowered(t *testing.T) {
	ok := serve(t, http.StatusOK, `{"ok":true}`)
	down := serve(t, http.StatusServiceUnavailable, "")
	for _, seconds := range []int64{301, math.MaxInt64} {
		m := webMetric(ok.URL, func(w *v1alpha1.WebMetric) { w.TimeoutSeconds = seconds })
		p, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		if p.timeout != httpclient.MaxTimeout {
			t.Errorf("timeoutSeconds %d: timeout %v, want %v", seconds, p.timeout, httpclient.MaxTimeout)
		}
		note := fmt.Sprintf("timeout %ds is above the 5m0s ceiling; 5m0s is used", seconds)
		got := p.Run(context.Background(), &v1alpha1.AnalysisRun{}, m)
		if got.Phase != v1alpha1.AnalysisPhaseSuccessful || got.Metadata[metric.TimeoutNoteKey] != note || got.Message != "" {
			t.Errorf("timeoutSeconds %d: got %s %q %v", seconds, got.Phase, got.Message, got.Metadata)
		}
		m.Provider.Web.URL = down.URL
		got = p.Run(context.Background(), &v1alpha1.AnalysisRun{}, m)
		if want := "received non 2xx response code: 503 (" + note + ")"; got.Phase != v1alpha1.AnalysisPhaseError || got.Message != want {
			t.Errorf("timeoutSeconds %d: got %s %q, want %q", seconds, got.Phase, got.Message, want)
		}
	}
	m := webMetric(ok.URL, func(w *v1alpha1.WebMetric) { w.TimeoutSeconds = 300 })
	if got := run(t, m); got.Metadata != nil {
		t.Errorf("a timeout at the ceiling is noted: %v", got.Metadata)
	}
}

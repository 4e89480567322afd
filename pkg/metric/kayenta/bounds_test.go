package kayenta

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	body := metrictest.Padded(`{"complete":true,"result":{"judgeResult":{"score":{"score":95}}},"log":[`, `"judged a metric"`, ",", `]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
	defer srv.Close()
	resume := metav1.NewTime(fixedNow)
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Metadata: map[string]string{ExecutionIDKey: "01HEXEC42"}, ResumeAt: &resume}
	out := newTestProvider().Resume(context.Background(), nil, kMetric(srv.URL, guestbook), in)
	metrictest.WantTooLarge(t, out, nil)
	if out.ResumeAt != nil {
		t.Errorf("resumeAt %v, want none", out.ResumeAt)
	}
}

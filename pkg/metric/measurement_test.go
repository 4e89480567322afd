package metric

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestMarkError(t *testing.T) {
	resumeAt := metav1.NewTime(time.Unix(100, 0))
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Value: "42", ResumeAt: &resumeAt}
	got := MarkError(in, fmt.Errorf("query %q: %v", "up", "boom"))
	if got.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("phase = %q, want %q", got.Phase, v1alpha1.AnalysisPhaseError)
	}
	if want := `query "up": boom`; got.Message != want {
		t.Errorf("message = %q, want %q", got.Message, want)
	}
	if got.Value != "42" {
		t.Errorf("value = %q, want it kept as %q", got.Value, "42")
	}
	if got.ResumeAt != nil {
		t.Errorf("resumeAt = %v, want it cleared", got.ResumeAt)
	}
	if in.ResumeAt == nil {
		t.Error("MarkError changed the caller's measurement")
	}
}

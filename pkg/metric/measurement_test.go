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

func TestNoteTimeout(t *testing.T) {
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseSuccessful, Metadata: map[string]string{"a": "b"}}
	if got := NoteTimeout(in, ""); got.Metadata["a"] != "b" || len(got.Metadata) != 1 || got.Message != "" {
		t.Errorf("an empty note changed %+v", got)
	}
	got := NoteTimeout(in, "lowered")
	if got.Metadata[TimeoutNoteKey] != "lowered" || got.Metadata["a"] != "b" || got.Message != "" {
		t.Errorf("successful: %+v", got)
	}
	if _, ok := in.Metadata[TimeoutNoteKey]; ok {
		t.Error("NoteTimeout changed the caller's metadata")
	}
	got = NoteTimeout(v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseError, Message: "deadline exceeded"}, "lowered")
	if got.Message != "deadline exceeded (lowered)" || got.Metadata[TimeoutNoteKey] != "lowered" {
		t.Errorf("error: %+v", got)
	}
}

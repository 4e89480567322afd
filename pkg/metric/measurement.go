package metric

import "github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"

// MarkError turns a measurement into an Error carrying err's message, the
// one way every provider (and the AnalysisRun controller) reports a failed
// measurement. Value and Metadata are kept; ResumeAt is cleared, since an
// Error measurement is finished. The caller stamps FinishedAt.
func MarkError(m v1alpha1.Measurement, err error) v1alpha1.Measurement {
	m.Phase = v1alpha1.AnalysisPhaseError
	m.Message = err.Error()
	m.ResumeAt = nil
	return m
}

// TimeoutNoteKey is the measurement metadata key that records a user-set
// timeout lowered to the ceiling (httpclient.MaxTimeout).
const TimeoutNoteKey = "timeout"

// NoteTimeout records note, which says a user-set timeout was lowered to
// the ceiling, in the measurement's Metadata under TimeoutNoteKey and, when
// the measurement is an Error (a deadline may be why), at the end of its
// Message. An empty note changes nothing. The caller's Metadata map is not
// changed.
func NoteTimeout(m v1alpha1.Measurement, note string) v1alpha1.Measurement {
	if note == "" {
		return m
	}
	meta := make(map[string]string, len(m.Metadata)+1)
	for k, v := range m.Metadata {
		meta[k] = v
	}
	meta[TimeoutNoteKey] = note
	m.Metadata = meta
	if m.Phase == v1alpha1.AnalysisPhaseError {
		m.Message += " (" + note + ")"
	}
	return m
}

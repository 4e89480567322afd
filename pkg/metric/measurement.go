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

package plan

import (
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// terminating reports whether an experiment with this spec and status is
// ending: asked to stop, finished, a template failed, a run failed, errored
// or was inconclusive, or every required run succeeded. A terminating
// experiment starts nothing and scales its ReplicaSets down.
func terminating(ex *v1alpha1.Experiment, s *v1alpha1.ExperimentStatus) bool {
	if ex.Spec.Terminate || s.Phase.Completed() {
		return true
	}
	for _, ts := range s.TemplateStatuses {
		if ts.Status == v1alpha1.TemplateStatusFailed || ts.Status == v1alpha1.TemplateStatusError {
			return true
		}
	}
	for _, r := range s.AnalysisRuns {
		switch r.Phase {
		case v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError, v1alpha1.AnalysisPhaseInconclusive:
			return true
		}
	}
	return requiredRunsSuccessful(ex, s)
}

// hasRequiredRuns reports whether an analysis is required for completion.
func hasRequiredRuns(ex *v1alpha1.Experiment) bool {
	for _, a := range ex.Spec.Analyses {
		if a.RequiredForCompletion {
			return true
		}
	}
	return false
}

// requiredRunsSuccessful reports whether there are required analyses and
// all of them succeeded.
func requiredRunsSuccessful(ex *v1alpha1.Experiment, s *v1alpha1.ExperimentStatus) bool {
	if !hasRequiredRuns(ex) {
		return false
	}
	for _, a := range ex.Spec.Analyses {
		if !a.RequiredForCompletion {
			continue
		}
		if r := s.AnalysisRunStatusByName(a.Name); r == nil || r.Phase != v1alpha1.AnalysisPhaseSuccessful {
			return false
		}
	}
	return true
}

// durationLeft tells whether the duration, counted from availableAt, has
// passed at now (it has at its very end) and, if not, how long is left. An experiment without a
// duration, or not yet available, never passes it.
func durationLeft(ex *v1alpha1.Experiment, s *v1alpha1.ExperimentStatus, now time.Time) (bool, time.Duration) {
	if ex.Spec.Duration == "" || s.AvailableAt == nil {
		return false, 0
	}
	d, err := ex.Spec.Duration.Duration()
	if err != nil {
		return false, 0
	}
	end := s.AvailableAt.Add(d)
	return !now.Before(end), end.Sub(now)
}

// desiredReplicas is how many pods a template should run: none once the
// experiment or the template is over, else its replicas.
func desiredReplicas(ex *v1alpha1.Experiment, s *v1alpha1.ExperimentStatus, t *v1alpha1.TemplateSpec) int32 {
	if terminating(ex, s) {
		return 0
	}
	if ts := s.TemplateStatusByName(t.Name); ts != nil && ts.Status.Completed() {
		return 0
	}
	return templateReplicas(t)
}

// templateOrder ranks template statuses from best to worst.
var templateOrder = []v1alpha1.TemplateStatusCode{
	v1alpha1.TemplateStatusSuccessful,
	v1alpha1.TemplateStatusRunning,
	v1alpha1.TemplateStatusProgressing,
	v1alpha1.TemplateStatusError,
	v1alpha1.TemplateStatusFailed,
}

// runOrder ranks run phases from best to worst.
var runOrder = []v1alpha1.AnalysisPhase{
	v1alpha1.AnalysisPhaseSuccessful,
	v1alpha1.AnalysisPhaseRunning,
	v1alpha1.AnalysisPhasePending,
	v1alpha1.AnalysisPhaseInconclusive,
	v1alpha1.AnalysisPhaseError,
	v1alpha1.AnalysisPhaseFailed,
}

// rank is the position of v in order; values not in it rank as the best.
func rank[T comparable](order []T, v T) int {
	for i, o := range order {
		if o == v {
			return i
		}
	}
	return 0
}

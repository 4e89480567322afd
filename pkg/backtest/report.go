package backtest

import (
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Report is the outcome of a backtest.
type Report struct {
	From    time.Time     `json:"from"`
	To      time.Time     `json:"to"`
	Step    time.Duration `json:"step"`
	Starts  []Start       `json:"starts"`
	Summary Summary       `json:"summary"`
}

// Start is the run that would have started at At.
type Start struct {
	At      time.Time `json:"at"`
	Phase   string    `json:"phase"`
	Message string    `json:"message,omitempty"`
	// Deciding are the measurements that decided the verdict: for a run
	// that did not pass, those of its metrics' verdict; for one that did,
	// the last of each metric.
	Deciding []Value         `json:"deciding,omitempty"`
	Metrics  []MetricOutcome `json:"metrics"`
}

// MetricOutcome is one metric's verdict and values in one run.
type MetricOutcome struct {
	Name   string  `json:"name"`
	Phase  string  `json:"phase"`
	Values []Value `json:"values"`
}

// Value is one measurement.
type Value struct {
	Metric  string    `json:"metric"`
	At      time.Time `json:"at"`
	Value   string    `json:"value"`
	Phase   string    `json:"phase"`
	Message string    `json:"message,omitempty"`
}

// Summary counts the verdicts. Running counts runs cut before a verdict
// (measurements that would lie in the future, or a metric that measures
// until stopped).
type Summary struct {
	Total        int `json:"total"`
	Successful   int `json:"successful"`
	Failed       int `json:"failed"`
	Inconclusive int `json:"inconclusive"`
	Error        int `json:"error"`
	Running      int `json:"running"`
}

func startOf(at time.Time, run *v1alpha1.AnalysisRun) Start {
	phase := run.Status.Phase
	if phase == "" || phase == v1alpha1.AnalysisPhasePending {
		phase = v1alpha1.AnalysisPhaseRunning
	}
	s := Start{At: at, Phase: string(phase), Message: run.Status.Message}
	for _, res := range run.Status.MetricResults {
		mo := MetricOutcome{Name: res.Name, Phase: string(res.Phase)}
		for _, m := range res.Measurements {
			v := Value{Metric: res.Name, Value: m.Value, Phase: string(m.Phase), Message: m.Message}
			if m.StartedAt != nil {
				v.At = m.StartedAt.Time
			}
			mo.Values = append(mo.Values, v)
		}
		s.Metrics = append(s.Metrics, mo)
		s.Deciding = append(s.Deciding, deciding(phase, res.Phase, mo.Values)...)
	}
	return s
}

// deciding picks a metric's deciding values: for a run that did not pass,
// the values with its phase of the metric that has that phase; for one
// that passed or has no verdict yet, the metric's last value.
func deciding(run, metricPhase v1alpha1.AnalysisPhase, values []Value) []Value {
	if len(values) == 0 {
		return nil
	}
	switch {
	case run == v1alpha1.AnalysisPhaseSuccessful || run == v1alpha1.AnalysisPhaseRunning:
		return values[len(values)-1:]
	case metricPhase != run:
		return nil
	}
	var out []Value
	for _, v := range values {
		if v.Phase == string(metricPhase) {
			out = append(out, v)
		}
	}
	return out
}

func (r *Report) summarise() {
	for _, s := range r.Starts {
		r.Summary.Total++
		switch v1alpha1.AnalysisPhase(s.Phase) {
		case v1alpha1.AnalysisPhaseSuccessful:
			r.Summary.Successful++
		case v1alpha1.AnalysisPhaseFailed:
			r.Summary.Failed++
		case v1alpha1.AnalysisPhaseInconclusive:
			r.Summary.Inconclusive++
		case v1alpha1.AnalysisPhaseError:
			r.Summary.Error++
		default:
			r.Summary.Running++
		}
	}
}

package explain

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Analysis is one AnalysisRun of a release.
type Analysis struct {
	Name string `json:"name"`
	// Type is Step, Background, PrePromotion or PostPromotion.
	Type    string     `json:"type"`
	Step    *int       `json:"step,omitempty"`
	Phase   string     `json:"phase"`
	Message string     `json:"message,omitempty"`
	Started *time.Time `json:"started,omitempty"`
	Ended   *time.Time `json:"ended,omitempty"`
	Metrics []Metric   `json:"metrics"`
}

// Metric is one metric of a run: its rules and its measurements.
type Metric struct {
	Name              string        `json:"name"`
	Phase             string        `json:"phase"`
	SuccessCondition  string        `json:"successCondition,omitempty"`
	FailureCondition  string        `json:"failureCondition,omitempty"`
	FailureLimit      string        `json:"failureLimit,omitempty"`
	InconclusiveLimit string        `json:"inconclusiveLimit,omitempty"`
	Count             int32         `json:"count"`
	Successful        int32         `json:"successful"`
	Failed            int32         `json:"failed"`
	Inconclusive      int32         `json:"inconclusive"`
	Error             int32         `json:"error"`
	Measurements      []Measurement `json:"measurements,omitempty"`
}

// Measurement is one value taken and its verdict.
type Measurement struct {
	At      *time.Time `json:"at,omitempty"`
	Value   string     `json:"value"`
	Verdict string     `json:"verdict"`
	Message string     `json:"message,omitempty"`
}

// Decision is what stopped the current release.
type Decision struct {
	// Kind is "abort" or "pause".
	Kind string `json:"kind"`
	// By says who or what decided: an analysis, or a person.
	By string `json:"by"`
	// Run and Metric name the analysis that decided, Measurement the value
	// that tipped it, Rule the condition and limit it broke.
	Run         string       `json:"run,omitempty"`
	Metric      string       `json:"metric,omitempty"`
	Measurement *Measurement `json:"measurement,omitempty"`
	Rule        string       `json:"rule,omitempty"`
}

// analyses lists the runs of one revision, oldest first.
func analyses(runs []*v1alpha1.AnalysisRun, hash string) []Analysis {
	var out []Analysis
	sorted := append([]*v1alpha1.AnalysisRun(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].CreationTimestamp.Before(&sorted[j].CreationTimestamp) })
	for _, run := range sorted {
		if run.Labels[v1alpha1.LabelPodTemplateHash] != hash {
			continue
		}
		out = append(out, analysis(run))
	}
	return out
}

func analysis(run *v1alpha1.AnalysisRun) Analysis {
	a := Analysis{Name: run.Name, Type: run.Labels[v1alpha1.LabelRolloutType], Phase: string(run.Status.Phase), Message: run.Status.Message}
	if s, ok := run.Labels[v1alpha1.LabelStepIndex]; ok {
		if n, err := strconv.Atoi(s); err == nil {
			n++ // 1-based, as the step events count
			a.Step = &n
		}
	}
	if t := run.Status.StartedAt; t != nil {
		at := t.Time
		a.Started = &at
	}
	if t := run.Status.CompletedAt; t != nil {
		at := t.Time
		a.Ended = &at
	}
	for _, res := range run.Status.MetricResults {
		a.Metrics = append(a.Metrics, metric(run, res))
	}
	return a
}

func metric(run *v1alpha1.AnalysisRun, res v1alpha1.MetricResult) Metric {
	m := Metric{Name: res.Name, Phase: string(res.Phase), Count: res.Count, Successful: res.Successful,
		Failed: res.Failed, Inconclusive: res.Inconclusive, Error: res.Error}
	for _, spec := range run.Spec.Metrics {
		if spec.Name != res.Name {
			continue
		}
		m.SuccessCondition, m.FailureCondition = spec.SuccessCondition, spec.FailureCondition
		if spec.FailureLimit != nil {
			m.FailureLimit = spec.FailureLimit.String()
		}
		if spec.InconclusiveLimit != nil {
			m.InconclusiveLimit = spec.InconclusiveLimit.String()
		}
	}
	for _, x := range res.Measurements {
		out := Measurement{Value: x.Value, Verdict: string(x.Phase), Message: x.Message}
		if x.FinishedAt != nil {
			at := x.FinishedAt.Time
			out.At = &at
		} else if x.StartedAt != nil {
			at := x.StartedAt.Time
			out.At = &at
		}
		m.Measurements = append(m.Measurements, out)
	}
	return m
}

// decide finds what stopped the current release: the measurement of the
// failed (abort) or inconclusive (pause) analysis, or a person.
func decide(in Input, rels []Release) *Decision {
	s := in.Rollout.Status
	if len(rels) == 0 {
		return nil
	}
	var kind string
	var phases []v1alpha1.AnalysisPhase
	switch {
	case s.Abort:
		kind, phases = "abort", []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError}
	case hasPause(s, v1alpha1.PauseReasonInconclusiveAnalysis):
		kind, phases = "pause", []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhaseInconclusive}
	default:
		return nil
	}
	for i := len(rels[0].Analyses) - 1; i >= 0; i-- {
		a := rels[0].Analyses[i]
		for _, p := range phases {
			if a.Phase == string(p) {
				return decidingMeasurement(kind, a, p)
			}
		}
	}
	return &Decision{Kind: kind, By: "a person or a client: no analysis of this release " + verdictWord(kind) +
		" (see the writers of status below)"}
}

func verdictWord(kind string) string {
	if kind == "abort" {
		return "failed"
	}
	return "was inconclusive"
}

func hasPause(s v1alpha1.RolloutStatus, reason v1alpha1.PauseReason) bool {
	for _, c := range s.PauseConditions {
		if c.Reason == reason {
			return true
		}
	}
	return false
}

// decidingMeasurement picks, in the metric that gave the run its phase,
// the last measurement with that phase: the one that crossed the limit.
func decidingMeasurement(kind string, a Analysis, phase v1alpha1.AnalysisPhase) *Decision {
	d := &Decision{Kind: kind, By: "analysis " + a.Name, Run: a.Name}
	for _, m := range a.Metrics {
		if m.Phase != string(phase) {
			continue
		}
		d.Metric = m.Name
		d.Rule = rule(m, phase)
		for i := len(m.Measurements) - 1; i >= 0; i-- {
			if m.Measurements[i].Verdict == string(phase) {
				x := m.Measurements[i]
				d.Measurement = &x
				break
			}
		}
		return d
	}
	return d
}

// rule states the condition and the limit a metric broke.
func rule(m Metric, phase v1alpha1.AnalysisPhase) string {
	cond := ""
	switch {
	case m.FailureCondition != "" && m.SuccessCondition != "":
		cond = fmt.Sprintf("failureCondition %q / successCondition %q", m.FailureCondition, m.SuccessCondition)
	case m.FailureCondition != "":
		cond = fmt.Sprintf("failureCondition %q", m.FailureCondition)
	case m.SuccessCondition != "":
		cond = fmt.Sprintf("successCondition %q not met", m.SuccessCondition)
	}
	switch phase {
	case v1alpha1.AnalysisPhaseFailed:
		return fmt.Sprintf("%s: %d failed measurement(s), more than failureLimit %s", cond, m.Failed, orDefault(m.FailureLimit, "0"))
	case v1alpha1.AnalysisPhaseInconclusive:
		return fmt.Sprintf("%s: %d inconclusive measurement(s), more than inconclusiveLimit %s", cond, m.Inconclusive, orDefault(m.InconclusiveLimit, "0"))
	}
	return fmt.Sprintf("%s: %d measurement error(s) in a row", cond, m.Error)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

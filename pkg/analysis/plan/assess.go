package plan

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
)

// Compute turns the measurements taken for sched into the run's next status,
// its events, the garbage collection of old measurements and the requeue.
func Compute(st State, sched Scheduled, measured Measured) Plan {
	run := st.Run
	now := measured.Now
	if now.IsZero() {
		now = st.Now
	}
	p := Plan{Status: *run.Status.DeepCopy()}
	if sched.Completed {
		p.Delete, p.RequeueAfter = ttl(run.Spec, run.Status, now)
		return p
	}
	if msg := sched.Invalid; msg != "" || measured.ArgsError != "" {
		if msg == "" {
			msg = prefixResolveArgs + measured.ArgsError
		}
		p.Status.Phase, p.Status.Message = v1alpha1.AnalysisPhaseError, msg
		p.complete(now)
		p.Delete, p.RequeueAfter = ttl(run.Spec, p.Status, now)
		return p
	}
	for _, o := range measured.Outcomes {
		record(&p.Status, sched, o)
	}
	phase, message := p.assessRun(run.Spec, sched, now)
	if phase != p.Status.Phase {
		p.Status.Phase, p.Status.Message = phase, message
		if phase.Completed() {
			p.complete(now)
		}
	}
	p.Collect = trimMeasurements(&p.Status, sched)
	if p.Status.Phase.Completed() {
		p.Delete, p.RequeueAfter = ttl(run.Spec, p.Status, now)
		return p
	}
	p.RequeueAfter = requeueAfter(run.Spec, p.Status, sched, now)
	return p
}

// stamp is a status timestamp. The API keeps seconds only; stamping whole
// seconds keeps the plan's view and the stored one identical.
func stamp(t time.Time) *metav1.Time {
	s := metav1.NewTime(t.Truncate(time.Second))
	return &s
}

// Stamp is the timestamp the reconciler puts on measurements, in the same
// whole seconds as the plan's own timestamps.
func Stamp(t time.Time) *metav1.Time { return stamp(t) }

// complete records the run's completion: its event and completedAt.
func (p *Plan) complete(now time.Time) {
	phase := p.Status.Phase
	p.event(warns(phase), v1alpha1.EventPrefixAnalysisRun+string(phase), fmt.Sprintf("Analysis Completed. Result: %s", phase))
	if p.Status.CompletedAt == nil {
		p.Status.CompletedAt = stamp(now)
	}
}

func (p *Plan) event(warning bool, reason, message string) {
	p.Events = append(p.Events, event.Event{Warning: warning, Reason: reason, Message: message})
}

// warns reports whether a phase is announced as a Warning event.
func warns(phase v1alpha1.AnalysisPhase) bool {
	return phase == v1alpha1.AnalysisPhaseError || phase == v1alpha1.AnalysisPhaseFailed
}

// record adds one measurement to its metric's result and counters. Errors
// are counted apart: they never count towards the metric's count.
func record(s *v1alpha1.AnalysisRunStatus, sched Scheduled, o Outcome) {
	t := sched.Tasks[o.Task]
	m := o.Measurement
	if t.Action == ActionTerminate && (m.Phase == v1alpha1.AnalysisPhaseSuccessful || m.Phase == v1alpha1.AnalysisPhaseInconclusive) {
		m.Message = MessageMetricTerminated
	}
	r := s.MetricResultByName(t.Metric.Name)
	if r == nil {
		s.MetricResults = append(s.MetricResults, v1alpha1.MetricResult{
			Name:     t.Metric.Name,
			Phase:    v1alpha1.AnalysisPhaseRunning,
			DryRun:   sched.DryRun[t.Metric.Name],
			Metadata: o.Metadata,
		})
		r = &s.MetricResults[len(s.MetricResults)-1]
	}
	switch m.Phase {
	case v1alpha1.AnalysisPhaseSuccessful:
		r.Successful++
		r.Count++
		r.ConsecutiveError = 0
		r.ConsecutiveSuccess++
	case v1alpha1.AnalysisPhaseFailed:
		r.Failed++
		r.Count++
		r.ConsecutiveError, r.ConsecutiveSuccess = 0, 0
	case v1alpha1.AnalysisPhaseInconclusive:
		r.Inconclusive++
		r.Count++
		r.ConsecutiveError, r.ConsecutiveSuccess = 0, 0
	case v1alpha1.AnalysisPhaseError:
		r.Error++
		r.ConsecutiveError++
		r.ConsecutiveSuccess = 0
	}
	if t.InFlight != nil && len(r.Measurements) > 0 {
		r.Measurements[len(r.Measurements)-1] = m
	} else {
		r.Measurements = append(r.Measurements, m)
	}
}

// assessRun updates every metric's phase (with its events), the run and
// dry-run summaries and startedAt, and returns the run's phase and message:
// Running until every metric is complete, then the worst phase among the
// metrics that are not dry runs. A terminating run ends as soon as it is
// assessed, Successful if nothing was measured.
func (p *Plan) assessRun(spec v1alpha1.AnalysisRunSpec, sched Scheduled, now time.Time) (v1alpha1.AnalysisPhase, string) {
	s := &p.Status
	if s.StartedAt == nil {
		s.StartedAt = stamp(now)
	}
	a := runAssessment{allCompleted: true}
	if spec.Terminate {
		a.message = MessageRunTerminated
	}
	for _, m := range sched.Metrics {
		dry := sched.DryRun[m.Name]
		a.count(dry)
		r := s.MetricResultByName(m.Name)
		if r == nil {
			a.allCompleted = false // not started yet, e.g. waiting for its initialDelay
			continue
		}
		phase := p.updateMetricPhase(m, r, sched.Terminating)
		if !phase.Completed() {
			a.allCompleted = false
			continue
		}
		a.addCompleted(m, r, phase, dry)
	}
	s.RunSummary = a.summary
	drySummary := a.drySummary
	s.DryRunSummary = &drySummary
	return a.outcome(sched.Terminating)
}

// runAssessment is what assessRun gathers while it walks the metrics: the
// worst phase and its message, whether every metric is complete, and the
// run and dry-run summaries.
type runAssessment struct {
	worst        v1alpha1.AnalysisPhase
	message      string
	allCompleted bool
	summary      v1alpha1.RunSummary
	drySummary   v1alpha1.RunSummary
}

// count counts a metric in the dry-run summary or the run summary.
func (a *runAssessment) count(dry bool) {
	if dry {
		a.drySummary.Count++
	} else {
		a.summary.Count++
	}
}

// updateMetricPhase assesses a started metric and, when its phase changes,
// records the new phase, the last measurement's message and, on completion,
// the metric's event; it returns the assessed phase.
func (p *Plan) updateMetricPhase(m v1alpha1.Metric, r *v1alpha1.MetricResult, terminating bool) v1alpha1.AnalysisPhase {
	phase := assessMetric(m, *r, terminating)
	if phase != r.Phase {
		if phase.Completed() {
			p.event(warns(phase), v1alpha1.EventPrefixMetric+string(phase), fmt.Sprintf("Metric '%s' Completed. Result: %s", m.Name, phase))
		}
		if last := r.LastMeasurement(); last != nil {
			r.Message = last.Message
		}
		r.Phase = phase
	}
	return phase
}

// addCompleted tallies a completed metric in its summary; a dry run only
// gets its own message, any other metric may worsen the run's phase and
// set the run's message.
func (a *runAssessment) addCompleted(m v1alpha1.Metric, r *v1alpha1.MetricResult, phase v1alpha1.AnalysisPhase, dry bool) {
	limitPhase, reason := limitBreached(m, *r)
	if dry {
		if a.worst == "" {
			a.worst = v1alpha1.AnalysisPhaseSuccessful
		}
		if reason != "" {
			r.Message = fmt.Sprintf("Metric assessed %s due to %s", phase, reason)
		}
		tally(&a.drySummary, limitPhase)
		return
	}
	if a.worst == "" || worse(a.worst, phase) {
		a.worst = phase
		if reason != "" {
			a.message = fmt.Sprintf("Metric %q assessed %s due to %s", m.Name, phase, reason)
			if r.Message != "" {
				a.message += fmt.Sprintf(": \"Error Message: %s\"", r.Message)
			}
		}
	}
	tally(&a.summary, limitPhase)
}

// outcome is the run's phase and message once every metric is assessed.
func (a *runAssessment) outcome(terminating bool) (v1alpha1.AnalysisPhase, string) {
	message := strings.TrimSpace(a.message)
	switch {
	case terminating && a.worst == "":
		return v1alpha1.AnalysisPhaseSuccessful, message
	case terminating:
		return a.worst, message
	case !a.allCompleted || a.worst == "":
		return v1alpha1.AnalysisPhaseRunning, ""
	}
	return a.worst, message
}

// tally counts a completed metric in a summary by the limit it breached;
// a metric that breached none counts as Successful.
func tally(s *v1alpha1.RunSummary, limitPhase v1alpha1.AnalysisPhase) {
	switch limitPhase {
	case v1alpha1.AnalysisPhaseError:
		s.Error++
	case v1alpha1.AnalysisPhaseFailed:
		s.Failed++
	case v1alpha1.AnalysisPhaseInconclusive:
		s.Inconclusive++
	default:
		s.Successful++
	}
}

// phaseOrder ranks phases from best to worst.
var phaseOrder = []v1alpha1.AnalysisPhase{
	v1alpha1.AnalysisPhaseSuccessful,
	v1alpha1.AnalysisPhaseRunning,
	v1alpha1.AnalysisPhasePending,
	v1alpha1.AnalysisPhaseInconclusive,
	v1alpha1.AnalysisPhaseError,
	v1alpha1.AnalysisPhaseFailed,
}

// worse reports whether next ranks below current. Unknown phases rank as
// Successful.
func worse(current, next v1alpha1.AnalysisPhase) bool {
	rank := func(p v1alpha1.AnalysisPhase) int {
		for i, o := range phaseOrder {
			if o == p {
				return i
			}
		}
		return 0
	}
	return rank(next) > rank(current)
}

// Worst returns the worse of two phases, in Argo Rollouts' order
// Successful < Running < Pending < Inconclusive < Error < Failed.
func Worst(a, b v1alpha1.AnalysisPhase) v1alpha1.AnalysisPhase {
	if worse(a, b) {
		return b
	}
	return a
}

// assessMetric is the phase of one metric given its counters:
//   - completed metrics keep their phase;
//   - nothing measured yet: Pending (Successful when terminating);
//   - a measurement in flight: Running;
//   - a breached limit: Failed, Inconclusive or Error (see limitBreached);
//   - consecutiveSuccessLimit reached: Successful;
//   - count reached: Successful, unless a consecutiveSuccessLimit was set and
//     not reached, which is Inconclusive (Failed when failureLimit is -1);
//   - otherwise Running, or Successful when the run is terminating.
func assessMetric(m v1alpha1.Metric, r v1alpha1.MetricResult, terminating bool) v1alpha1.AnalysisPhase {
	if r.Phase.Completed() {
		return r.Phase
	}
	last := r.LastMeasurement()
	if last == nil {
		if terminating {
			return v1alpha1.AnalysisPhaseSuccessful
		}
		return v1alpha1.AnalysisPhasePending
	}
	if !last.Phase.Completed() {
		return v1alpha1.AnalysisPhaseRunning
	}
	if phase, _ := limitBreached(m, r); phase != "" {
		return phase
	}
	successLimit := intValue(m.ConsecutiveSuccessLimit, 0)
	if successLimit > 0 && int(r.ConsecutiveSuccess) >= successLimit {
		return v1alpha1.AnalysisPhaseSuccessful
	}
	if c := effectiveCount(m); c != nil && int(r.Count) >= c.IntValue() {
		if successLimit > 0 {
			if intValue(m.FailureLimit, 0) >= 0 {
				return v1alpha1.AnalysisPhaseInconclusive
			}
			return v1alpha1.AnalysisPhaseFailed
		}
		return v1alpha1.AnalysisPhaseSuccessful
	}
	if terminating {
		return v1alpha1.AnalysisPhaseSuccessful
	}
	return v1alpha1.AnalysisPhaseRunning
}

// limitBreached returns the phase a metric ends in because of its limits
// and why, or "" when none is breached. When several are, the later check
// wins: Error over Inconclusive over Failed.
func limitBreached(m v1alpha1.Metric, r v1alpha1.MetricResult) (v1alpha1.AnalysisPhase, string) {
	var phase v1alpha1.AnalysisPhase
	var reason string
	if limit := intValue(m.FailureLimit, 0); limit >= 0 && int(r.Failed) > limit {
		phase, reason = v1alpha1.AnalysisPhaseFailed, fmt.Sprintf("failed (%d) > failureLimit (%d)", r.Failed, limit)
	}
	if limit := intValue(m.InconclusiveLimit, 0); int(r.Inconclusive) > limit {
		phase, reason = v1alpha1.AnalysisPhaseInconclusive, fmt.Sprintf("inconclusive (%d) > inconclusiveLimit (%d)", r.Inconclusive, limit)
	}
	if limit := ConsecutiveErrorLimit(m); int(r.ConsecutiveError) > limit {
		phase, reason = v1alpha1.AnalysisPhaseError, fmt.Sprintf("consecutiveErrors (%d) > consecutiveErrorLimit (%d)", r.ConsecutiveError, limit)
	}
	return phase, reason
}

// ConsecutiveErrorLimit is the metric's consecutiveErrorLimit, 4 when unset.
func ConsecutiveErrorLimit(m v1alpha1.Metric) int {
	return intValue(m.ConsecutiveErrorLimit, DefaultConsecutiveErrorLimit)
}

// trimMeasurements keeps the newest measurements of each metric (10, or
// what its measurementRetention rule says) and returns the provider clean-ups
// for the metrics that lost some.
func trimMeasurements(s *v1alpha1.AnalysisRunStatus, sched Scheduled) []Collect {
	var collect []Collect
	for i := range s.MetricResults {
		r := &s.MetricResults[i]
		limit := DefaultMeasurementHistoryLimit
		if l := sched.Retention[r.Name]; l > 0 {
			limit = l
		}
		if len(r.Measurements) <= limit {
			continue
		}
		m, ok := metricNamed(sched.Metrics, r.Name)
		if !ok {
			continue
		}
		collect = append(collect, Collect{Metric: m, Limit: limit})
		r.Measurements = append([]v1alpha1.Measurement(nil), r.Measurements[len(r.Measurements)-limit:]...)
	}
	return collect
}

func metricNamed(metrics []v1alpha1.Metric, name string) (v1alpha1.Metric, bool) {
	for _, m := range metrics {
		if m.Name == name {
			return m, true
		}
	}
	return v1alpha1.Metric{}, false
}

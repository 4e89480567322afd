package plan

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
)

// computation is one Compute in progress.
type computation struct {
	st  State
	ex  *v1alpha1.Experiment
	old *v1alpha1.ExperimentStatus
	// status is the next status, built up template by template and run by
	// run.
	status *v1alpha1.ExperimentStatus
	now    metav1.Time
	// ending is true when the experiment, as last written, is terminating.
	ending bool
	// unverified holds, by analysis name, the templates that cannot be
	// read before the experiment started; while any is missing nothing is
	// created.
	unverified map[string]string
	p          Plan
}

// Compute decides one reconcile of the experiment in st.
func Compute(st State) Plan {
	ex := st.Experiment
	c := &computation{
		st: st, ex: ex, old: &ex.Status, status: ex.Status.DeepCopy(),
		now: metav1.NewTime(st.Now), ending: terminating(ex, &ex.Status),
	}
	if msg := Validate(ex); msg != "" {
		c.invalid(msg)
		return c.finish()
	}
	c.unverified = c.verifyAnalyses()
	for i := range ex.Spec.Templates {
		c.template(&ex.Spec.Templates[i])
	}
	for i := range ex.Spec.Analyses {
		c.analysis(&ex.Spec.Analyses[i])
	}
	c.phase()
	c.conditions()
	c.requeue()
	return c.finish()
}

// invalid ends the experiment in Error: its spec cannot be acted upon. The
// InvalidSpec condition carries the same message, as in Argo Rollouts (which
// leaves the phase alone, so that an invalid experiment waits forever).
func (c *computation) invalid(msg string) {
	prev := c.status.ConditionByType(v1alpha1.InvalidExperimentSpec)
	if prev == nil || prev.Message != msg {
		c.removeCondition(v1alpha1.InvalidExperimentSpec)
		c.setCondition(v1alpha1.InvalidExperimentSpec, corev1.ConditionTrue, ReasonInvalidSpec, msg)
	}
	if !c.status.Phase.Completed() {
		c.status.Phase = v1alpha1.AnalysisPhaseError
		c.status.Message = msg
	}
}

// finish adds the phase transition event and returns the plan.
func (c *computation) finish() Plan {
	if prev, next := c.old.Phase, c.status.Phase; prev != next {
		warn := next == v1alpha1.AnalysisPhaseError || next == v1alpha1.AnalysisPhaseFailed || next == v1alpha1.AnalysisPhaseInconclusive
		c.event(warn, EventPrefixExperiment+string(next), fmt.Sprintf(MessagePhaseTransition, prev, next))
	}
	c.p.Status = *c.status
	return c.p
}

func (c *computation) event(warning bool, reason, message string) {
	c.p.Events = append(c.p.Events, event.Event{Warning: warning, Reason: reason, Message: message})
}

// after asks for a reconcile in d, keeping the earliest request. Deadlines
// count as reached at their very instant, so d is exact; one already due
// (d <= 0) is looked at again at once.
func (c *computation) after(d time.Duration) {
	if d < time.Millisecond {
		d = time.Millisecond
	}
	if c.p.RequeueAfter == 0 || d < c.p.RequeueAfter {
		c.p.RequeueAfter = d
	}
}

// setTemplateStatus replaces or adds a template's status entry.
func (c *computation) setTemplateStatus(ts v1alpha1.TemplateStatus) {
	if cur := c.status.TemplateStatusByName(ts.Name); cur != nil {
		*cur = ts
		return
	}
	c.status.TemplateStatuses = append(c.status.TemplateStatuses, ts)
}

// setRunStatus replaces or adds an analysis' status entry.
func (c *computation) setRunStatus(rs v1alpha1.ExperimentAnalysisRunStatus) {
	if cur := c.status.AnalysisRunStatusByName(rs.Name); cur != nil {
		*cur = rs
		return
	}
	c.status.AnalysisRuns = append(c.status.AnalysisRuns, rs)
}

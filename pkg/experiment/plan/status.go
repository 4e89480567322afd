package plan

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// phase decides the experiment's phase from its templates and its runs.
// A new experiment first becomes Pending; a finished one stays as it is.
func (c *computation) phase() {
	s := c.status
	switch s.Phase {
	case "":
		s.Phase = v1alpha1.AnalysisPhasePending
		return
	case v1alpha1.AnalysisPhasePending, v1alpha1.AnalysisPhaseRunning:
	default:
		return
	}
	tPhase, tMsg := c.assessTemplates()
	rPhase, rMsg := c.assessRuns()
	if tPhase == v1alpha1.AnalysisPhaseRunning && s.AvailableAt == nil {
		s.AvailableAt = &c.now
	}
	switch {
	case tPhase.Completed():
		// Templates that ran their course defer to the analyses once
		// those are over (or some are required); failed ones decide.
		if tPhase == v1alpha1.AnalysisPhaseSuccessful && (rPhase.Completed() || hasRequiredRuns(c.ex)) {
			s.Phase, s.Message = rPhase, rMsg
		} else {
			s.Phase, s.Message = tPhase, tMsg
		}
	case rPhase.Completed() && rPhase != v1alpha1.AnalysisPhaseSuccessful:
		s.Phase, s.Message = rPhase, rMsg
	case requiredRunsSuccessful(c.ex, s):
		s.Phase, s.Message = rPhase, rMsg
	default:
		s.Phase, s.Message = tPhase, tMsg
	}
}

// assessTemplates is the worst template status, as a phase, with its
// message: Progressing templates (or ones without a status) make it
// Pending.
func (c *computation) assessTemplates() (v1alpha1.AnalysisPhase, string) {
	worst, msg := v1alpha1.TemplateStatusSuccessful, ""
	for _, t := range c.ex.Spec.Templates {
		ts := c.status.TemplateStatusByName(t.Name)
		if ts == nil {
			if rank(templateOrder, v1alpha1.TemplateStatusProgressing) > rank(templateOrder, worst) {
				worst = v1alpha1.TemplateStatusProgressing
			}
			continue
		}
		if rank(templateOrder, ts.Status) > rank(templateOrder, worst) {
			worst, msg = ts.Status, ts.Message
		}
	}
	switch worst {
	case v1alpha1.TemplateStatusProgressing:
		return v1alpha1.AnalysisPhasePending, msg
	case v1alpha1.TemplateStatusFailed:
		return v1alpha1.AnalysisPhaseFailed, msg
	case v1alpha1.TemplateStatusError:
		return v1alpha1.AnalysisPhaseError, msg
	case v1alpha1.TemplateStatusSuccessful:
		return v1alpha1.AnalysisPhaseSuccessful, msg
	}
	return v1alpha1.AnalysisPhaseRunning, msg
}

// assessRuns is the worst run phase with its message (Successful when
// there are no analyses). Once every required run succeeded and none is
// worse than Running, it is Successful; Pending runs count as Running.
func (c *computation) assessRuns() (v1alpha1.AnalysisPhase, string) {
	worst, msg := v1alpha1.AnalysisPhaseSuccessful, ""
	for _, a := range c.ex.Spec.Analyses {
		r := c.status.AnalysisRunStatusByName(a.Name)
		if r != nil && rank(runOrder, r.Phase) > rank(runOrder, worst) {
			worst, msg = r.Phase, r.Message
		}
	}
	if requiredRunsSuccessful(c.ex, c.status) && rank(runOrder, worst) <= rank(runOrder, v1alpha1.AnalysisPhaseRunning) {
		return v1alpha1.AnalysisPhaseSuccessful, MessageRequiredCompleted
	}
	if worst == v1alpha1.AnalysisPhasePending {
		worst = v1alpha1.AnalysisPhaseRunning
	}
	return worst, msg
}

// conditions keeps the Progressing condition: False (ExperimentCompleted)
// once Successful, True (ReplicaSetUpdated) whenever pod counts move, True
// (NewReplicaSetAvailable) while the duration runs. InvalidSpec goes once
// the spec is valid.
func (c *computation) conditions() {
	c.removeCondition(v1alpha1.InvalidExperimentSpec)
	switch {
	case c.status.Phase == v1alpha1.AnalysisPhaseSuccessful:
		c.setCondition(v1alpha1.ExperimentProgressing, corev1.ConditionFalse, ReasonCompleted, fmt.Sprintf(MessageCompleted, c.ex.Name))
	case c.progressed():
		// Each move refreshes lastUpdateTime, keeping lastTransitionTime
		// while the condition stays True.
		cur := c.status.ConditionByType(v1alpha1.ExperimentProgressing)
		keep := cur != nil && cur.Status == corev1.ConditionTrue
		var since = c.now
		if keep {
			since = cur.LastTransitionTime
		}
		c.removeCondition(v1alpha1.ExperimentProgressing)
		c.setCondition(v1alpha1.ExperimentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, fmt.Sprintf(MessageProgressing, c.ex.Name))
		c.status.ConditionByType(v1alpha1.ExperimentProgressing).LastTransitionTime = since
	case c.old.AvailableAt != nil && !c.durationPassed():
		c.setCondition(v1alpha1.ExperimentProgressing, corev1.ConditionTrue, ReasonNewRSAvailable, fmt.Sprintf(MessageRunning, c.ex.Name))
	}
}

func (c *computation) durationPassed() bool {
	passed, _ := durationLeft(c.ex, c.old, c.now.Time)
	return passed
}

// progressed reports whether a template appeared or its pod counts moved.
func (c *computation) progressed() bool {
	if len(c.old.TemplateStatuses) < len(c.status.TemplateStatuses) {
		return true
	}
	for _, o := range c.old.TemplateStatuses {
		n := c.status.TemplateStatusByName(o.Name)
		if n != nil && (o.Replicas != n.Replicas || o.UpdatedReplicas != n.UpdatedReplicas ||
			o.ReadyReplicas != n.ReadyReplicas || o.AvailableReplicas != n.AvailableReplicas) {
			return true
		}
	}
	return false
}

// setCondition sets a condition unless one of the same status and reason
// is there; lastTransitionTime is kept while the status stays.
func (c *computation) setCondition(t v1alpha1.ExperimentConditionType, status corev1.ConditionStatus, reason, msg string) {
	cond := v1alpha1.ExperimentCondition{
		Type: t, Status: status, Reason: reason, Message: msg,
		LastUpdateTime: c.now, LastTransitionTime: c.now,
	}
	cur := c.status.ConditionByType(t)
	if cur != nil && cur.Status == status && cur.Reason == reason {
		return
	}
	if cur != nil && cur.Status == status {
		cond.LastTransitionTime = cur.LastTransitionTime
	}
	c.removeCondition(t)
	c.status.Conditions = append(c.status.Conditions, cond)
}

func (c *computation) removeCondition(t v1alpha1.ExperimentConditionType) {
	var kept []v1alpha1.ExperimentCondition
	for _, cond := range c.status.Conditions {
		if cond.Type != t {
			kept = append(kept, cond)
		}
	}
	c.status.Conditions = kept
}

// requeue asks to look again when the duration ends or a template's
// progress deadline passes, whichever comes first. An ending experiment
// only waits for its scale-down deadlines (asked for in scale).
func (c *computation) requeue() {
	if terminating(c.ex, c.status) {
		return
	}
	if c.status.AvailableAt != nil && c.ex.Spec.Duration != "" {
		if passed, left := durationLeft(c.ex, c.status, c.now.Time); !passed {
			c.after(left)
		}
	}
	seconds := time.Duration(progressDeadlineSeconds(c.ex)) * time.Second
	for i := range c.ex.Spec.Templates {
		t := &c.ex.Spec.Templates[i]
		ts := c.status.TemplateStatusByName(t.Name)
		if ts == nil || ts.LastTransitionTime == nil ||
			(ts.Status != v1alpha1.TemplateStatusProgressing && ts.Status != v1alpha1.TemplateStatusRunning) {
			continue
		}
		if ts.AvailableReplicas != desiredReplicas(c.ex, c.status, t) {
			c.after(ts.LastTransitionTime.Add(seconds).Sub(c.now.Time))
		}
	}
}

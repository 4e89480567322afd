package plan

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Messages of StepPluginTransition events and of a failed step plugin, in
// Argo Rollouts' words: the plugin's name, the step's number (from 1) and
// the phase or message.
const (
	messageStepPluginRun       = "Step plugin %s (step %d) transitioned to %s"
	messageStepPluginAbort     = "Step plugin %s (step %d) aborted (%s)"
	messageStepPluginTerminate = "Step plugin %s (step %d) terminated (%s)"
	messageStepPluginFailed    = "Step Plugin %d (%s) failed: %s"
)

// stepPluginsWithEvents records this reconcile's step plugin answers in
// status.canary.stepPluginStatuses, with a StepPluginTransition event for
// each phase that changed (not for a Run that succeeded: RolloutStepCompleted
// says it), asks to be woken when the current plugin's backoff ends, and
// aborts the rollout
// when a Run failed. A plugin that could not be reached is a
// ReconciliationError, retried after 30s; its step does not complete.
func (p *planner) stepPluginsWithEvents(s *v1alpha1.RolloutStatus) {
	statuses := slices.Clone(s.Canary.StepPluginStatuses)
	if old := p.ro.Status; !old.Abort && !old.PromoteFull && !(old.StableRS != "" && old.StableRS == old.CurrentPodHash) {
		statuses = retryStatuses(p.ro, statuses)
	}
	for _, a := range p.st.StepPluginAnswers {
		if a.Unavailable != nil {
			p.stepPluginUnreachable = true
			err := fmt.Sprintf("could not create step plugin at index %d : %v", a.Index, a.Unavailable)
			p.event(true, v1alpha1.EventReconciliationError, fmt.Sprintf(v1alpha1.MessageReconciliationError, err))
			p.plan.requeue(stepPluginUnavailable)
			continue
		}
		var next *v1alpha1.StepPluginStatus
		if a.Operation == v1alpha1.StepPluginOperationRun {
			next = p.runStatus(statuses, a)
		} else {
			next = p.endStatus(statuses, a)
		}
		if next == nil {
			continue
		}
		var changed bool
		if statuses, changed = putStepStatus(statuses, *next); changed {
			p.stepPluginEvent(*next)
		}
		if a.Operation == v1alpha1.StepPluginOperationRun {
			p.afterRun(*next)
		}
	}
	if statuses != nil {
		s.Canary.StepPluginStatuses = statuses
	}
	p.stepStatuses = statuses
	p.wakeForStepPlugin()
}

// wakeForStepPlugin asks to be woken a little after the backoff of the
// current step's plugin ends, while it is Running or in Error.
func (p *planner) wakeForStepPlugin() {
	step := p.steps.current()
	if step == nil || step.Plugin == nil {
		return
	}
	run := findStepStatus(p.stepStatuses, p.steps.index, step.Plugin.Name, v1alpha1.StepPluginOperationRun)
	if run == nil || run.Disabled || run.UpdatedAt == nil ||
		(run.Phase != v1alpha1.StepPluginPhaseRunning && run.Phase != v1alpha1.StepPluginPhaseError) ||
		stepPluginDone(p.stepStatuses, p.steps.index, false) {
		return
	}
	backoff, _ := run.Backoff.Duration()
	p.plan.requeue(run.UpdatedAt.Add(backoff).Sub(p.now) + stepPluginBackoffDelay)
}

// runStatus is the record of a Run after its answer.
func (p *planner) runStatus(statuses []v1alpha1.StepPluginStatus, a StepPluginAnswer) *v1alpha1.StepPluginStatus {
	if a.Disabled {
		return &v1alpha1.StepPluginStatus{Index: a.Index, Name: a.Name, Operation: v1alpha1.StepPluginOperationRun, Disabled: true}
	}
	now := metav1.NewTime(p.now)
	var st *v1alpha1.StepPluginStatus
	if prev := findStepStatus(statuses, a.Index, a.Name, v1alpha1.StepPluginOperationRun); prev != nil && !prev.Disabled {
		st = prev.DeepCopy()
	} else {
		st = &v1alpha1.StepPluginStatus{Index: a.Index, Name: a.Name, StartedAt: &now,
			Operation: v1alpha1.StepPluginOperationRun, Phase: v1alpha1.StepPluginPhaseRunning}
	}
	st.Backoff, st.UpdatedAt = "", &now
	st.Executions++
	if a.Err != nil {
		st.Phase, st.Message = v1alpha1.StepPluginPhaseError, a.Err.Error()
		st.Backoff = v1alpha1.DurationString(stepPluginErrorBackoff.String())
		return st
	}
	st.Message = a.Message
	if a.Phase != "" {
		st.Phase = a.Phase
	}
	switch st.Phase {
	case v1alpha1.StepPluginPhaseSuccessful, v1alpha1.StepPluginPhaseFailed:
		st.FinishedAt = &now
	case v1alpha1.StepPluginPhaseRunning:
		backoff := stepPluginDefaultRequeue
		if a.RequeueAfter > stepPluginMinRequeue {
			backoff = a.RequeueAfter
		}
		st.Backoff = v1alpha1.DurationString(backoff.String())
	}
	if st.Phase != v1alpha1.StepPluginPhaseError {
		// An Error keeps the last good state for the retry.
		st.Status = a.Status
	}
	return st
}

// endStatus is the record of a Terminate or an Abort after its answer. Both
// are synchronous: a plugin that answers Running has Failed.
func (p *planner) endStatus(statuses []v1alpha1.StepPluginStatus, a StepPluginAnswer) *v1alpha1.StepPluginStatus {
	if a.Disabled || findStepStatus(statuses, a.Index, a.Name, a.Operation) != nil {
		return nil
	}
	now := metav1.NewTime(p.now)
	st := &v1alpha1.StepPluginStatus{Index: a.Index, Name: a.Name, StartedAt: &now, FinishedAt: &now,
		Operation: a.Operation, Phase: v1alpha1.StepPluginPhaseSuccessful}
	if a.Err != nil {
		st.Phase, st.Message = v1alpha1.StepPluginPhaseError, a.Err.Error()
		return st
	}
	if a.Phase != "" {
		st.Phase = a.Phase
	}
	if st.Phase == v1alpha1.StepPluginPhaseRunning {
		st.Phase = v1alpha1.StepPluginPhaseFailed
	}
	st.Message = a.Message
	return st
}

// afterRun aborts the rollout when the plugin's Run Failed.
func (p *planner) afterRun(st v1alpha1.StepPluginStatus) {
	if !st.Disabled && st.Phase == v1alpha1.StepPluginPhaseFailed {
		p.pause.addAbort(fmt.Sprintf(messageStepPluginFailed, st.Index+1, st.Name, st.Message))
	}
}

// putStepStatus replaces the record of the same step and operation, or
// adds it, keeping the order; it tells whether the phase changed.
func putStepStatus(statuses []v1alpha1.StepPluginStatus, st v1alpha1.StepPluginStatus) ([]v1alpha1.StepPluginStatus, bool) {
	for i, s := range statuses {
		if s.Index == st.Index && s.Operation == st.Operation {
			statuses[i] = st
			return statuses, s.Phase != st.Phase
		}
	}
	return append(statuses, st), true
}

// stepPluginEvent records a StepPluginTransition, a warning for Error and
// Failed.
func (p *planner) stepPluginEvent(st v1alpha1.StepPluginStatus) {
	if st.Disabled || (st.Operation == v1alpha1.StepPluginOperationRun && st.Phase == v1alpha1.StepPluginPhaseSuccessful) {
		return
	}
	format := messageStepPluginRun
	switch st.Operation {
	case v1alpha1.StepPluginOperationAbort:
		format = messageStepPluginAbort
	case v1alpha1.StepPluginOperationTerminate:
		format = messageStepPluginTerminate
	}
	warning := st.Phase == v1alpha1.StepPluginPhaseError || st.Phase == v1alpha1.StepPluginPhaseFailed
	p.event(warning, v1alpha1.EventStepPluginTransition, fmt.Sprintf(format, st.Name, st.Index+1, st.Phase))
}

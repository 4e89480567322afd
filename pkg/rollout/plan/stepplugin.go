package plan

import (
	"encoding/json"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Step plugin timings, as in Argo Rollouts: a Running plugin is called
// again after the requeueAfter it asked for when that is over 10s, after
// 30s otherwise; a call that failed is retried after 30s; and the rollout
// is looked at 5s after a backoff ends, or 30s after a plugin could not be
// reached at all.
const (
	stepPluginMinRequeue     = 10 * time.Second
	stepPluginDefaultRequeue = 30 * time.Second
	stepPluginErrorBackoff   = 30 * time.Second
	stepPluginBackoffDelay   = 5 * time.Second
	stepPluginUnavailable    = 30 * time.Second
)

// StepPluginCall is a call to a step plugin whose answer the plan needs:
// the reconciler makes it before planning (see StepPluginCalls) and hands
// the answer back in State.StepPluginAnswers.
type StepPluginCall struct {
	// Index of the step, and the plugin's Name and Config from it.
	Index  int32
	Name   string
	Config json.RawMessage
	// Operation is Run, Terminate or Abort.
	Operation v1alpha1.StepPluginOperation
	// Status is the state the plugin returned last from Run for this step,
	// handed back to it in the step context.
	Status json.RawMessage
}

// StepPluginAnswer is the answer to a StepPluginCall.
type StepPluginAnswer struct {
	StepPluginCall
	// Unavailable is why the plugin could not be reached at all (not
	// configured, binary refused): the plugin was not called.
	Unavailable error
	// Disabled is set when the plugin is configured as disabled: it was
	// not called, and a Run counts as done.
	Disabled bool
	// Err is why the call failed: the plugin's own error, or a crash or
	// deadline on the way.
	Err error
	// Phase, Message, RequeueAfter and Status are the plugin's result.
	Phase        v1alpha1.StepPluginPhase
	Message      string
	RequeueAfter time.Duration
	Status       json.RawMessage
}

// StepPluginCalls decides, from the observed Rollout alone, which step
// plugin calls to make before planning, as Argo Rollouts does: on abort,
// Abort for every step plugin whose Run is Running or Successful, latest
// first; on a full promotion, or once fully promoted, Terminate for the
// last Run still Running; otherwise Run for the current step while the
// rollout is Progressing, unless it is done or its backoff has not passed.
func StepPluginCalls(st State) []StepPluginCall {
	ro := st.Rollout
	c := ro.Spec.Strategy.Canary
	if c == nil || len(c.Steps) == 0 {
		return nil
	}
	statuses := ro.Status.Canary.StepPluginStatuses
	if ro.Status.Abort {
		return abortCalls(c.Steps, statuses)
	}
	if ro.Status.PromoteFull || (ro.Status.StableRS != "" && ro.Status.StableRS == ro.Status.CurrentPodHash) {
		return terminateCall(c.Steps, statuses)
	}
	statuses = retryStatuses(ro, statuses)
	step := newStepView(ro).current()
	if step == nil || step.Plugin == nil || ro.Status.Phase != v1alpha1.RolloutPhaseProgressing {
		return nil
	}
	index := newStepView(ro).index
	call := StepPluginCall{Index: index, Name: step.Plugin.Name, Config: step.Plugin.Config, Operation: v1alpha1.StepPluginOperationRun}
	run := findStepStatus(statuses, index, step.Plugin.Name, v1alpha1.StepPluginOperationRun)
	if run == nil || run.Disabled {
		return []StepPluginCall{call}
	}
	if run.Phase == v1alpha1.StepPluginPhaseSuccessful || run.Phase == v1alpha1.StepPluginPhaseFailed {
		return nil
	}
	if run.Executions > 0 && run.UpdatedAt != nil {
		backoff, err := run.Backoff.Duration()
		if err == nil && run.UpdatedAt.Add(backoff).After(st.Now) {
			return nil
		}
	}
	call.Status = run.Status
	return []StepPluginCall{call}
}

// abortCalls are the Abort calls of an aborted rollout.
func abortCalls(steps []v1alpha1.CanaryStep, statuses []v1alpha1.StepPluginStatus) []StepPluginCall {
	var out []StepPluginCall
	for i := len(statuses) - 1; i >= 0; i-- {
		s := statuses[i]
		if s.Operation != v1alpha1.StepPluginOperationRun || int(s.Index) >= len(steps) || steps[s.Index].Plugin == nil {
			continue
		}
		if s.Disabled || (s.Phase != v1alpha1.StepPluginPhaseRunning && s.Phase != v1alpha1.StepPluginPhaseSuccessful) {
			continue
		}
		if findStepStatus(statuses, s.Index, s.Name, v1alpha1.StepPluginOperationAbort) != nil {
			continue // aborted already
		}
		plugin := steps[s.Index].Plugin
		out = append(out, StepPluginCall{Index: s.Index, Name: plugin.Name, Config: plugin.Config,
			Operation: v1alpha1.StepPluginOperationAbort, Status: s.Status})
	}
	return out
}

// terminateCall is the Terminate call of a promoted rollout: for the last
// Run still Running, unless the last one was terminated already.
func terminateCall(steps []v1alpha1.CanaryStep, statuses []v1alpha1.StepPluginStatus) []StepPluginCall {
	for i := len(statuses) - 1; i >= 0; i-- {
		s := statuses[i]
		if s.Operation == v1alpha1.StepPluginOperationTerminate && s.Phase == v1alpha1.StepPluginPhaseSuccessful {
			return nil
		}
		if s.Operation != v1alpha1.StepPluginOperationRun || s.Phase != v1alpha1.StepPluginPhaseRunning {
			continue
		}
		if int(s.Index) >= len(steps) || steps[s.Index].Plugin == nil || s.Disabled ||
			findStepStatus(statuses, s.Index, s.Name, v1alpha1.StepPluginOperationTerminate) != nil {
			return nil
		}
		plugin := steps[s.Index].Plugin
		return []StepPluginCall{{Index: s.Index, Name: plugin.Name, Config: plugin.Config,
			Operation: v1alpha1.StepPluginOperationTerminate, Status: s.Status}}
	}
	return nil
}

// retryStatuses drops the step plugin records of an aborted attempt when
// the rollout is retried: at step 0, unless step 0 is a plugin whose Run
// has not ended yet.
func retryStatuses(ro *v1alpha1.Rollout, statuses []v1alpha1.StepPluginStatus) []v1alpha1.StepPluginStatus {
	if len(statuses) == 0 || ro.Status.Abort {
		return statuses
	}
	v := newStepView(ro)
	step := v.current()
	if step == nil || v.index > 0 {
		return statuses
	}
	if step.Plugin != nil && !stepPluginDone(statuses, v.index, false) {
		return statuses
	}
	return []v1alpha1.StepPluginStatus{}
}

// findStepStatus is the record of an operation of the plugin at a step.
func findStepStatus(statuses []v1alpha1.StepPluginStatus, index int32, name string, op v1alpha1.StepPluginOperation) *v1alpha1.StepPluginStatus {
	for i := range statuses {
		s := &statuses[i]
		if s.Index == index && s.Operation == op && (name == "" || s.Name == name) {
			return s
		}
	}
	return nil
}

// stepPluginDone tells whether the plugin step at index is over: its Run
// is disabled, ended (Successful or Failed), or was Running when it was
// terminated or aborted. Not while a plugin could not be reached.
func stepPluginDone(statuses []v1alpha1.StepPluginStatus, index int32, unreachable bool) bool {
	if unreachable {
		return false
	}
	run := findStepStatus(statuses, index, "", v1alpha1.StepPluginOperationRun)
	if run == nil {
		return false
	}
	if run.Disabled {
		return true
	}
	switch run.Phase {
	case v1alpha1.StepPluginPhaseSuccessful, v1alpha1.StepPluginPhaseFailed:
		return true
	case v1alpha1.StepPluginPhaseRunning:
		return findStepStatus(statuses, index, "", v1alpha1.StepPluginOperationTerminate) != nil ||
			findStepStatus(statuses, index, "", v1alpha1.StepPluginOperationAbort) != nil
	}
	return false
}

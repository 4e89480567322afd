package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const stepPlugin = "example.com/step"

func pluginStep(name string) v1alpha1.CanaryStep {
	return v1alpha1.CanaryStep{Plugin: &v1alpha1.PluginStep{Name: name, Config: json.RawMessage(`{"k":"v"}`)}}
}

// answer returns the same answer to every call.
func answer(a StepPluginAnswer) func(StepPluginCall) StepPluginAnswer {
	return func(c StepPluginCall) StepPluginAnswer { a.StepPluginCall = c; return a }
}

func (w *world) stepPluginEvents() string {
	var out []string
	for _, e := range w.events {
		if e.Reason == v1alpha1.EventStepPluginTransition || e.Reason == v1alpha1.EventReconciliationError {
			out = append(out, fmt.Sprintf("%s %v %s", e.Reason, e.Warning, e.Message))
		}
	}
	return strings.Join(out, "\n")
}

func (w *world) stepStatus(index int32, op v1alpha1.StepPluginOperation) *v1alpha1.StepPluginStatus {
	return findStepStatus(w.ro.Status.Canary.StepPluginStatuses, index, "", op)
}

// startStepPlugin deploys, then starts an update with the world's step plugin.
func startStepPlugin(t *testing.T, plugin func(StepPluginCall) StepPluginAnswer, steps ...v1alpha1.CanaryStep) *world {
	w := newWorld(t, canaryRollout(steps...))
	w.settle()
	w.stepPlugin = plugin
	w.setImage("demo:v2")
	return w
}

func TestARunningStepPluginIsCalledAgainAfterItsBackoffUntilItSucceeds(t *testing.T) {
	calls := 0
	w := startStepPlugin(t, func(c StepPluginCall) StepPluginAnswer {
		calls++
		a := StepPluginAnswer{StepPluginCall: c, Phase: v1alpha1.StepPluginPhaseRunning, RequeueAfter: 15 * time.Second, Status: json.RawMessage(fmt.Sprintf(`{"n":%d}`, calls))}
		if calls == 3 {
			a.Phase = v1alpha1.StepPluginPhaseSuccessful
		}
		return a
	}, setWeight(20), pluginStep(stepPlugin), pauseFor(""))
	w.settle()
	w.expectStep(1)
	if calls != 1 || w.last.RequeueAfter != 20*time.Second {
		t.Fatalf("calls %d, requeue %v: want one call and a wake-up 15s+5s later", calls, w.last.RequeueAfter)
	}
	run := w.stepStatus(1, v1alpha1.StepPluginOperationRun)
	if run == nil || run.Phase != v1alpha1.StepPluginPhaseRunning || run.Backoff != "15s" || run.Executions != 1 || string(run.Status) != `{"n":1}` {
		t.Fatalf("run status %+v", run)
	}
	w.advance(10 * time.Second)
	w.settle()
	if calls != 1 {
		t.Fatalf("called %d times before the backoff ended", calls)
	}
	w.advance(6 * time.Second)
	w.settle()
	if c := w.stepCalls[1]; calls != 2 || string(c.Status) != `{"n":1}` || string(c.Config) != `{"k":"v"}` || c.Index != 1 {
		t.Fatalf("second call %+v after %d calls: want the last status and the step's config", c, calls)
	}
	w.advance(16 * time.Second)
	w.settle()
	w.expectStep(2)
	if run := w.stepStatus(1, v1alpha1.StepPluginOperationRun); run.Phase != v1alpha1.StepPluginPhaseSuccessful || run.FinishedAt == nil || run.Executions != 3 {
		t.Fatalf("run status %+v", run)
	}
	if got := w.stepPluginEvents(); got != "StepPluginTransition false Step plugin example.com/step (step 2) transitioned to Running" {
		t.Fatalf("events %q", got)
	}
}

func TestAFailedStepPluginAbortsAndEarlierPluginsAreAborted(t *testing.T) {
	w := startStepPlugin(t, func(c StepPluginCall) StepPluginAnswer {
		a := StepPluginAnswer{StepPluginCall: c, Phase: v1alpha1.StepPluginPhaseSuccessful}
		if c.Index == 1 && c.Operation == v1alpha1.StepPluginOperationRun {
			a.Phase, a.Message = v1alpha1.StepPluginPhaseFailed, "load test failed"
		}
		return a
	}, pluginStep("example.com/first"), pluginStep(stepPlugin), pauseFor(""))
	w.settle()
	if !w.ro.Status.Abort || w.ro.Status.Message != "RolloutAborted: Rollout aborted update to revision 2: Step Plugin 2 (example.com/step) failed: load test failed" {
		t.Fatalf("abort %v, message %q", w.ro.Status.Abort, w.ro.Status.Message)
	}
	abort := w.stepStatus(0, v1alpha1.StepPluginOperationAbort)
	if abort == nil || abort.Phase != v1alpha1.StepPluginPhaseSuccessful || abort.Name != "example.com/first" {
		t.Fatalf("abort of the first plugin %+v", abort)
	}
	if w.stepStatus(1, v1alpha1.StepPluginOperationAbort) != nil {
		t.Fatal("the failed plugin was aborted too")
	}
	want := "StepPluginTransition true Step plugin example.com/step (step 2) transitioned to Failed\n" +
		"StepPluginTransition false Step plugin example.com/first (step 1) aborted (Successful)"
	if got := w.stepPluginEvents(); got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestAFullPromotionTerminatesTheRunningStepPlugin(t *testing.T) {
	w := startStepPlugin(t, answer(StepPluginAnswer{Phase: v1alpha1.StepPluginPhaseRunning}), pluginStep(stepPlugin), pauseFor(""))
	w.settle()
	w.ro.Status.PromoteFull = true
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	term := w.stepStatus(0, v1alpha1.StepPluginOperationTerminate)
	if term == nil || term.Phase != v1alpha1.StepPluginPhaseFailed {
		t.Fatalf("terminate %+v: a Terminate that answers Running has Failed", term)
	}
	terminates := 0
	for _, c := range w.stepCalls {
		if c.Operation == v1alpha1.StepPluginOperationTerminate {
			terminates++
		}
	}
	if terminates != 1 {
		t.Fatalf("%d Terminate calls, want 1", terminates)
	}
}

func TestADisabledStepPluginCompletesItsStepQuietly(t *testing.T) {
	w := startStepPlugin(t, answer(StepPluginAnswer{Disabled: true}), pluginStep(stepPlugin), pauseFor(""))
	w.settle()
	w.expectStep(1)
	if run := w.stepStatus(0, v1alpha1.StepPluginOperationRun); run == nil || !run.Disabled || run.Phase != "" {
		t.Fatalf("run %+v, want disabled", run)
	}
	if got := w.stepPluginEvents(); got != "" {
		t.Fatalf("events %q", got)
	}
}

func TestAStepPluginThatCannotBeReachedHoldsTheStepWithAReconciliationError(t *testing.T) {
	w := startStepPlugin(t, answer(StepPluginAnswer{Unavailable: errors.New(`plugin "example.com/step" is not configured`)}), pluginStep(stepPlugin))
	w.settle()
	w.expectStep(0)
	if w.last.RequeueAfter != 30*time.Second {
		t.Fatalf("requeue %v", w.last.RequeueAfter)
	}
	want := `ReconciliationError true Reconciliation failed with error: could not create step plugin at index 0 : plugin "example.com/step" is not configured`
	if got := w.stepPluginEvents(); !strings.HasPrefix(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if len(w.ro.Status.Canary.StepPluginStatuses) != 0 {
		t.Fatalf("statuses %+v", w.ro.Status.Canary.StepPluginStatuses)
	}
}

func TestAFailedCallIsAnErrorPhaseRetriedAfterItsBackoff(t *testing.T) {
	failing := true
	w := startStepPlugin(t, func(c StepPluginCall) StepPluginAnswer {
		if failing {
			return StepPluginAnswer{StepPluginCall: c, Err: errors.New("Run rpc call error: deadline exceeded")}
		}
		return StepPluginAnswer{StepPluginCall: c, Phase: v1alpha1.StepPluginPhaseSuccessful}
	}, pluginStep(stepPlugin), pauseFor(""))
	w.settle()
	run := w.stepStatus(0, v1alpha1.StepPluginOperationRun)
	if run == nil || run.Phase != v1alpha1.StepPluginPhaseError || run.Backoff != "30s" || run.Message != "Run rpc call error: deadline exceeded" {
		t.Fatalf("run %+v", run)
	}
	if w.last.RequeueAfter != 35*time.Second {
		t.Fatalf("requeue %v, want 35s", w.last.RequeueAfter)
	}
	failing = false
	w.advance(31 * time.Second)
	w.settle()
	w.expectStep(1)
}

func TestARetriedRolloutStartsItsStepPluginsOver(t *testing.T) {
	runs := 0
	w := startStepPlugin(t, func(c StepPluginCall) StepPluginAnswer {
		if c.Operation == v1alpha1.StepPluginOperationRun {
			runs++
		}
		return StepPluginAnswer{StepPluginCall: c, Phase: v1alpha1.StepPluginPhaseSuccessful}
	}, setWeight(20), pluginStep(stepPlugin), pauseFor(""))
	w.settle()
	w.expectStep(2)
	w.ro.Status.Abort = true
	w.settle()
	if abort := w.stepStatus(1, v1alpha1.StepPluginOperationAbort); abort == nil || abort.Phase != v1alpha1.StepPluginPhaseSuccessful {
		t.Fatalf("abort record %+v", abort)
	}
	w.ro.Status.Abort = false // retry
	w.settle()
	w.expectStep(2)
	if runs != 2 {
		t.Fatalf("%d runs, want the plugin run again after the retry", runs)
	}
	if w.stepStatus(1, v1alpha1.StepPluginOperationAbort) != nil {
		t.Fatalf("the aborted attempt's records were kept: %+v", w.ro.Status.Canary.StepPluginStatuses)
	}
}

package plugins

import (
	"fmt"
	"testing"
	"time"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// stepped is 25% -> a plugin step -> 50% -> 100%, without a router.
const stepped = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: %s
spec:
  replicas: 4
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      steps:
      - setWeight: 25
      - plugin:
          name: %[2]s
          config: %[3]s
      - setWeight: 50
      - pause: {duration: 1s}
`

// startStepped creates a healthy Rollout with a plugin step and starts an
// update.
func startStepped(f *framework.T, name, plugin, config string) *framework.R {
	f.Helper()
	r := f.Rollout(fmt.Sprintf(stepped, name, plugin, config))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 4})
	r.SetImage("demo:v2")
	return r
}

// runStatus is the record of the Run of the plugin at step 1.
func runStatus(ro *v1alpha1.Rollout) *v1alpha1.StepPluginStatus {
	for i, s := range ro.Status.Canary.StepPluginStatuses {
		if s.Index == 1 && s.Operation == v1alpha1.StepPluginOperationRun {
			return &ro.Status.Canary.StepPluginStatuses[i]
		}
	}
	return nil
}

// waitsForApproval checks that the step holds the rollout until the
// annotation names the revision, then lets it finish.
func waitsForApproval(f *framework.T, r *framework.R, annotation string) {
	f.Helper()
	r.WaitFor("the plugin step to run", func(ro *v1alpha1.Rollout) bool {
		s := runStatus(ro)
		return s != nil && s.Phase == v1alpha1.StepPluginPhaseRunning
	})
	r.Consistently("the step to wait for its approval", 3*time.Second, func(ro *v1alpha1.Rollout) bool {
		return ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == 1
	})
	r.Edit(fmt.Sprintf(`{"metadata":{"annotations":{%q:"2"}}}`, annotation))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	if s := runStatus(r.Get()); s == nil || s.Phase != v1alpha1.StepPluginPhaseSuccessful || s.FinishedAt == nil {
		f.Fatalf("run status %+v, want Successful", s)
	}
}

func TestAStepPluginFromAFileWaitsForItsApproval(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startStepped(f, "approve", fileStep, `{approvalAnnotation: e2e.serin.dev/approved}`)
	waitsForApproval(f, r, "e2e.serin.dev/approved")
}

func TestSerinsBuiltInApprovalStepWaitsForItsAnnotation(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startStepped(f, "builtin", "serin.dev/approval", `{}`)
	waitsForApproval(f, r, "serin.dev/approved-revision")
}

func TestADownloadedStepPluginIsCalledUntilItSucceeds(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startStepped(f, "count", httpStep, `{succeedAfter: 2}`)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	if s := runStatus(r.Get()); s == nil || s.Phase != v1alpha1.StepPluginPhaseSuccessful || s.Executions != 2 || string(s.Status) != `{"runs":2}` {
		t.Fatalf("run status %+v, want Successful after 2 runs", s)
	}
	if n := r.Events(v1alpha1.EventStepPluginTransition); n < 1 {
		t.Fatalf("%d StepPluginTransition events, want the transition to Running", n)
	}
}

func TestAFailedStepPluginAbortsTheRollout(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startStepped(f, "fail", fileStep, `{fail: "load test failed"}`)
	r.WaitFor("an abort by the step plugin", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	r.WaitForReplicas(map[string]int32{"rev1": 4})
	want := "Step Plugin 2 (" + fileStep + ") failed: load test failed"
	if msg := r.Get().Status.Message; msg != "RolloutAborted: Rollout aborted update to revision 2: "+want {
		t.Fatalf("message %q, want it to end with %q", msg, want)
	}
	waitForEvent(f, "fail", v1alpha1.EventStepPluginTransition, fileStep, "transitioned to Failed")
}

func TestADisabledStepPluginIsSkipped(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startStepped(f, "off", disabledStep, `{fail: "must not run"}`)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	if s := runStatus(r.Get()); s == nil || !s.Disabled {
		t.Fatalf("run status %+v, want disabled", s)
	}
}

// record is the step's record of an operation, once it exists.
func record(ro *v1alpha1.Rollout, op v1alpha1.StepPluginOperation) *v1alpha1.StepPluginStatus {
	for i, s := range ro.Status.Canary.StepPluginStatuses {
		if s.Index == 1 && s.Operation == op {
			return &ro.Status.Canary.StepPluginStatuses[i]
		}
	}
	return nil
}

// waitingStep starts an update that waits in the plugin step.
func waitingStep(f *framework.T, name string) *framework.R {
	f.Helper()
	r := startStepped(f, name, fileStep, `{approvalAnnotation: e2e.serin.dev/never}`)
	return r.WaitFor("the plugin step to run", func(ro *v1alpha1.Rollout) bool {
		s := runStatus(ro)
		return s != nil && s.Phase == v1alpha1.StepPluginPhaseRunning
	})
}

func TestAbortingARolloutAbortsItsStepPlugin(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := waitingStep(f, "abort")
	r.Abort()
	r.WaitFor("the plugin's Abort", func(ro *v1alpha1.Rollout) bool {
		s := record(ro, v1alpha1.StepPluginOperationAbort)
		return s != nil && s.Phase == v1alpha1.StepPluginPhaseSuccessful && s.Message == "aborted"
	})
	waitForEvent(f, "abort", v1alpha1.EventStepPluginTransition, fileStep, "(step 2) aborted (Successful)")
}

func TestAFullPromotionTerminatesTheRunningStepPlugin(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := waitingStep(f, "full")
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	r.WaitFor("the plugin's Terminate", func(ro *v1alpha1.Rollout) bool {
		s := record(ro, v1alpha1.StepPluginOperationTerminate)
		return s != nil && s.Phase == v1alpha1.StepPluginPhaseSuccessful && s.Message == "terminated"
	})
}

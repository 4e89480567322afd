package rollout

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const basicCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 5
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      stableService: demo-stable
      canaryService: demo-canary
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 60
      - pause: {duration: 2s}
`

func TestBasicCanaryThroughEveryStep(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(basicCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 5})
	stable := r.Get().Status.StableRS
	r.WaitForServiceHash("demo-stable", stable).WaitForServiceHash("demo-canary", stable)

	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1).WaitForReplicas(map[string]int32{"rev1": 4, "rev2": 1})
	canary := r.Get().Status.CurrentPodHash
	r.WaitForServiceHash("demo-canary", canary).WaitForServiceHash("demo-stable", stable)
	r.ExpectCondition(v1alpha1.RolloutPaused, corev1.ConditionTrue, v1alpha1.ReasonRolloutPaused)

	r.Promote()
	r.WaitForPausedAtStep(3).WaitForReplicas(map[string]int32{"rev1": 2, "rev2": 3})

	// The timed pause ends by itself.
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 5})
	ro := r.Get()
	if ro.Status.StableRS != canary || *ro.Status.CurrentStepIndex != 4 {
		t.Fatalf("stableRS=%s step=%d, want %s and 4", ro.Status.StableRS, *ro.Status.CurrentStepIndex, canary)
	}
	r.WaitForServiceHash("demo-stable", canary)
	r.ExpectCondition(v1alpha1.RolloutCompleted, corev1.ConditionTrue, v1alpha1.ReasonRolloutCompleted)
	r.ExpectCondition(v1alpha1.RolloutHealthy, corev1.ConditionTrue, v1alpha1.ReasonRolloutHealthy)
}

func TestAbortThenRetryThenPromoteFull(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(basicCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	stable := r.Get().Status.StableRS

	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	r.Abort()
	r.WaitForPhaseMessage(v1alpha1.RolloutPhaseDegraded, "RolloutAborted: Rollout aborted update to revision 2")
	r.WaitForReplicas(map[string]int32{"rev1": 5})
	r.WaitForServiceHash("demo-canary", stable)

	r.Retry()
	r.WaitForPausedAtStep(1).WaitForReplicas(map[string]int32{"rev1": 4, "rev2": 1})

	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 5})
	if ro := r.Get(); ro.Status.PromoteFull || ro.Status.Abort {
		t.Fatalf("promoteFull/abort left set: %+v", ro.Status)
	}
}

func TestManualPauseAndResume(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(basicCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.Pause()
	r.WaitForPhaseMessage(v1alpha1.RolloutPhasePaused, "manually paused")
	r.SetImage("demo:v2")
	r.Consistently("no canary pods while manually paused", 3*time.Second, func(*v1alpha1.Rollout) bool {
		return r.Replicas()["rev2"] == 0
	})
	r.Resume()
	r.WaitForPausedAtStep(1).WaitForReplicas(map[string]int32{"rev1": 4, "rev2": 1})
}

func TestUndoReturnsToTheStableRevisionWithoutSteps(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(basicCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	r.Undo()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev3": 5})
	if ro := r.Get(); ro.Spec.Template.Spec.Containers[0].Image != "demo:v1" {
		t.Fatalf("undo left image %s", ro.Spec.Template.Spec.Containers[0].Image)
	}
}

func TestImageChangeInTheMiddleOfARollout(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(basicCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	r.SetImage("demo:v3")
	// The v2 canary gives way to a v3 canary at the first step again.
	r.WaitForPausedAtStep(1).WaitForReplicas(map[string]int32{"rev1": 4, "rev3": 1})
}

func TestCanaryThatNeverBecomesReadyIsAbortedByTheDeadline(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(strings.Replace(basicCanary, "  replicas: 5\n", "  replicas: 5\n  progressDeadlineSeconds: 5\n  progressDeadlineAbort: true\n", 1))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	// kwok never makes pods of a nonexistent/ image ready.
	r.SetImage("nonexistent/demo:broken")
	r.WaitFor("an abort by the progress deadline", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	// Stable serves throughout; the broken canary is scaled away.
	r.WaitForReplicas(map[string]int32{"rev1": 5})
	r.WaitForServiceHash("demo-stable", r.Get().Status.StableRS)
}

func TestInvalidSpecIsReportedAndDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	bad := f.Rollout(`
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: bad}
spec:
  replicas: 1
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec: {containers: [{name: app, image: bad:v1}]}
  strategy:
    canary:
      steps: [{setWeight: 120}]
`)
	bad.WaitForPhaseMessage(v1alpha1.RolloutPhaseDegraded,
		`InvalidSpec: The Rollout "bad" is invalid: spec.strategy.canary.steps[0].setWeight: Invalid value: 120: SetWeight needs to be between 0 and 100`)
	good := f.Rollout(basicCanary)
	good.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
}

func TestKubectlGetRolloutPrintsUpstreamColumns(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(basicCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 5})
	out, err := f.Env.Cluster.Kubectl(t.Context(), "get", "rollout", "-n", f.Namespace)
	if err != nil {
		t.Fatalf("kubectl get rollout: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "NAME DESIRED CURRENT UP-TO-DATE AVAILABLE AGE" {
		t.Fatalf("header = %q", lines[0])
	}
	if got := strings.Fields(lines[1]); len(got) != 6 || strings.Join(got[:5], " ") != "demo 5 5 5 5" {
		t.Fatalf("row = %q", lines[1])
	}
	out, err = f.Env.Cluster.Kubectl(t.Context(), "get", "rollout", "-n", f.Namespace, "-o", "wide")
	if err != nil {
		t.Fatalf("kubectl get rollout -o wide: %v\n%s", err, out)
	}
	wide := strings.Split(strings.TrimSpace(string(out)), "\n")
	if framework.UpstreamCRDs() {
		// Argo Rollouts' CRDs add no -o wide columns.
		if got := strings.Join(strings.Fields(wide[0]), " "); got != "NAME DESIRED CURRENT UP-TO-DATE AVAILABLE AGE" {
			t.Fatalf("-o wide header on upstream's CRDs = %q", wide[0])
		}
		return
	}
	if got := strings.Join(strings.Fields(wide[0]), " "); got != "NAME DESIRED CURRENT UP-TO-DATE AVAILABLE AGE PHASE STEP WEIGHT MESSAGE" {
		t.Fatalf("-o wide header = %q", wide[0])
	}
	// Phase Healthy and step 4 (all four steps done) follow the age.
	if got := strings.Fields(wide[1]); len(got) < 8 || got[6] != "Healthy" || got[7] != "4" {
		t.Fatalf("-o wide row = %q", wide[1])
	}
}

func TestRestartReplacesEveryPod(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(basicCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 5})
	restartAt := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	time.Sleep(1100 * time.Millisecond) // every pod is now older than restartAt
	r.Restart(restartAt)
	r.WaitFor("status.restartedAt to reach spec.restartAt", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.RestartedAt != nil && ro.Status.RestartedAt.Time.Equal(restartAt) && ro.Status.Phase == v1alpha1.RolloutPhaseHealthy
	})
	for _, pod := range f.Pods("app=demo") {
		if pod.DeletionTimestamp == nil && pod.CreationTimestamp.Time.Before(restartAt) {
			t.Errorf("pod %s was created at %s, before restartAt %s", pod.Name, pod.CreationTimestamp, restartAt)
		}
	}
	r.WaitForReplicas(map[string]int32{"rev1": 5})
}

func TestEphemeralMetadataOnRunningPods(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	manifest := strings.Replace(basicCanary, "      stableService: demo-stable\n",
		"      stableService: demo-stable\n      canaryMetadata: {labels: {role: canary}}\n      stableMetadata: {labels: {role: stable}}\n", 1)
	r := f.Rollout(manifest)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 5})
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1).WaitForReplicas(map[string]int32{"rev1": 4, "rev2": 1})
	f.WaitForPodCount("role=canary", 1)
	f.WaitForPodCount("role=stable", 4)
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 5})
	// The canary pod became stable in place: its label changed, it was not replaced.
	f.WaitForPodCount("role=stable", 5)
	f.WaitForPodCount("role=canary", 0)
}

// TestScaleSubresource does what an HPA does: it reads and writes the
// Rollout's scale subresource.
func TestScaleSubresource(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(basicCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 5})
	out, err := f.Env.Cluster.Kubectl(t.Context(), "scale", "rollout", "demo", "-n", f.Namespace, "--replicas=7")
	if err != nil {
		t.Fatalf("kubectl scale: %v\n%s", err, out)
	}
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 7})
	out, err = f.Env.Cluster.Kubectl(t.Context(), "get", "rollout", "demo", "-n", f.Namespace, "--subresource=scale",
		"-o", "jsonpath={.spec.replicas} {.status.replicas} {.status.selector}")
	if err != nil {
		t.Fatalf("kubectl get --subresource=scale: %v\n%s", err, out)
	}
	if got := string(out); got != "7 7 app=demo" {
		t.Fatalf("scale subresource = %q, want \"7 7 app=demo\"", got)
	}
}

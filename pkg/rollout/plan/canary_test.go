package plan

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestInitialDeployGoesStraightToStable(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor("")))
	p := w.step()
	if p.Create == nil || *p.Create.Spec.Replicas != 5 {
		t.Fatalf("first reconcile should create the ReplicaSet at full size, got %+v", p.Create)
	}
	if p.Create.Name != "demo-"+w.hash() || p.Create.Labels[v1alpha1.LabelPodTemplateHash] != w.hash() {
		t.Fatalf("ReplicaSet name/label = %s/%v, want demo-%s", p.Create.Name, p.Create.Labels, w.hash())
	}
	if p.Revision != "1" {
		t.Fatalf("revision annotation = %q, want 1", p.Revision)
	}
	// Pods are not up yet: the new status says so.
	w.ro.Status = p.Status
	if w.ro.Status.StableRS != w.hash() {
		t.Fatalf("stableRS = %q, want the only revision %q", w.ro.Status.StableRS, w.hash())
	}
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectStep(2)
	w.expectCondition(v1alpha1.RolloutHealthy, corev1.ConditionTrue, v1alpha1.ReasonRolloutHealthy)
	w.expectCondition(v1alpha1.RolloutProgressing, corev1.ConditionTrue, v1alpha1.ReasonNewRSAvailable)
	w.expectCondition(v1alpha1.RolloutAvailable, corev1.ConditionTrue, v1alpha1.ReasonAvailable)
	w.expectCondition(v1alpha1.RolloutCompleted, corev1.ConditionTrue, v1alpha1.ReasonRolloutCompleted)
	if condition(w.ro.Status, v1alpha1.RolloutPaused) != nil {
		t.Fatal("a rollout that never paused has no Paused condition")
	}
	if w.ro.Status.ObservedGeneration != "1" || w.ro.Status.Selector != "app=demo" || w.ro.Status.HPAReplicas != 5 {
		t.Fatalf("observedGeneration/selector/HPAReplicas = %q/%q/%d", w.ro.Status.ObservedGeneration, w.ro.Status.Selector, w.ro.Status.HPAReplicas)
	}
}

func TestConvergedRolloutPlansNothing(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor("")))
	w.settle()
	p := Compute(w.state())
	if p.Create != nil || len(p.ReplicaSetUpdates()) != 0 || len(p.Deletes) != 0 || len(p.ServiceSwitches) != 0 || p.Revision != "" || len(p.Events) != 0 {
		t.Fatalf("a converged rollout planned writes: %+v", p)
	}
	if p.RequeueAfter != 0 {
		t.Fatalf("a converged rollout asked to be requeued after %s", p.RequeueAfter)
	}
	if got, _ := statusDiff(w.ro.Status, p.Status); got {
		t.Fatalf("a converged rollout planned a status change")
	}
}

func TestCanaryMovesThroughStepsAndPausesForPromotion(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor(""), setWeight(60), pauseFor("30s")))
	w.settle()
	w.setImage("demo:v2")
	w.settle()

	// 20% of 5 pods: one canary pod, four stable ones.
	w.expectReplicas(map[string]int32{"rev1": 4, "rev2": 1})
	w.expectStep(1)
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonCanaryPauseStep))
	w.expectCondition(v1alpha1.RolloutPaused, corev1.ConditionTrue, v1alpha1.ReasonRolloutPaused)
	w.expectCondition(v1alpha1.RolloutProgressing, corev1.ConditionUnknown, v1alpha1.ReasonRolloutPaused)
	wantPause := v1alpha1.PauseCondition{Reason: v1alpha1.PauseReasonCanaryPauseStep, StartTime: metav1.NewTime(w.now)}
	if pc := w.ro.Status.PauseConditions; !w.ro.Status.ControllerPause || len(pc) != 1 || !pc[0].StartTime.Equal(&wantPause.StartTime) || pc[0].Reason != wantPause.Reason {
		t.Fatalf("want a controller pause with one condition %+v, got %+v", wantPause, w.ro.Status)
	}
	if i := w.ro.Status.CurrentStepIndex; i == nil || *i != 1 {
		t.Fatalf("currentStepIndex = %v, want 1 (the pause)", i)
	}

	w.promote()
	w.settle()
	// 60%: three canary pods and two stable; then a timed pause.
	w.expectReplicas(map[string]int32{"rev1": 2, "rev2": 3})
	w.expectStep(3)
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonCanaryPauseStep))
	if w.last.RequeueAfter != 30*time.Second {
		t.Fatalf("a timed pause of 30s must ask to be woken in 30s, got %s", w.last.RequeueAfter)
	}

	w.advance(31 * time.Second)
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectReplicas(map[string]int32{"rev2": 5})
	w.expectStep(4)
	if w.ro.Status.StableRS != w.hash() {
		t.Fatalf("stableRS = %q, want %q", w.ro.Status.StableRS, w.hash())
	}
	w.expectEvent(v1alpha1.EventRolloutCompleted)
	w.expectEvent(v1alpha1.EventRolloutStepCompleted)
}

func TestAbortReturnsEveryPodToStableAndRetryStartsOver(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(40), pauseFor("")))
	w.addService("demo-stable")
	w.addService("demo-canary")
	w.ro.Spec.Strategy.Canary.StableService = "demo-stable"
	w.ro.Spec.Strategy.Canary.CanaryService = "demo-canary"
	w.settle()
	stable := w.hash()
	w.setImage("demo:v2")
	w.settle()
	canary := w.hash()
	w.expectReplicas(map[string]int32{"rev1": 3, "rev2": 2})
	if got := w.serviceHashes(); got["demo-stable"] != stable || got["demo-canary"] != canary {
		t.Fatalf("services select %v, want stable=%s canary=%s", got, stable, canary)
	}

	w.ro.Status.Abort = true // kubectl argo rollouts abort
	w.settle()
	w.expectReplicas(map[string]int32{"rev1": 5})
	w.expectPhase(v1alpha1.RolloutPhaseDegraded, "RolloutAborted: Rollout aborted update to revision 2")
	w.expectCondition(v1alpha1.RolloutProgressing, corev1.ConditionFalse, v1alpha1.ReasonRolloutAborted)
	w.expectStep(0)
	if at := metav1.NewTime(w.now); w.ro.Status.AbortedAt == nil || !w.ro.Status.AbortedAt.Equal(&at) || len(w.ro.Status.PauseConditions) != 0 {
		t.Fatalf("aborted status: abortedAt=%v (want %v) pauseConditions=%v", w.ro.Status.AbortedAt, at, w.ro.Status.PauseConditions)
	}
	if got := w.serviceHashes(); got["demo-canary"] != stable {
		t.Fatalf("after abort the canary Service selects %s, want the stable %s", got["demo-canary"], stable)
	}

	w.ro.Status.Abort = false // kubectl argo rollouts retry
	w.settle()
	w.expectReplicas(map[string]int32{"rev1": 3, "rev2": 2})
	w.expectStep(1)
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonCanaryPauseStep))
	if w.ro.Status.AbortedAt != nil {
		t.Fatal("retry must clear abortedAt")
	}
}

func TestPromoteFullSkipsRemainingSteps(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor(""), setWeight(50), pauseFor("")))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.ro.Status.PromoteFull = true
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectReplicas(map[string]int32{"rev2": 5})
	w.expectStep(4)
	if w.ro.Status.PromoteFull {
		t.Fatal("promoteFull must be reset once promoted")
	}
}

func TestManualPauseHaltsScaling(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor(""), setWeight(60)))
	w.settle()
	w.ro.Spec.Paused = true
	w.ro.Generation++
	w.setImage("demo:v2")
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhasePaused, v1alpha1.PhaseMessageManuallyPaused)
	w.expectCondition(v1alpha1.RolloutPaused, corev1.ConditionTrue, v1alpha1.ReasonRolloutPaused)
	w.expectReplicas(map[string]int32{"rev1": 5, "rev2": 0})

	w.ro.Spec.Paused = false
	w.ro.Generation++
	w.settle()
	w.expectReplicas(map[string]int32{"rev1": 4, "rev2": 1})
}

func TestUndoToStableSkipsSteps(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor("")))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.setImage("demo:v1") // back to the stable template
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectReplicas(map[string]int32{"rev3": 5})
	w.expectEvent(v1alpha1.EventSkipSteps)
	if rs := w.rss["demo-"+w.hash()]; rs.Annotations[v1alpha1.AnnotationRevisionHistory] != "1" {
		t.Fatalf("the reused ReplicaSet should record revision 1 in its history, annotations %v", rs.Annotations)
	}
}

func TestCanaryThatNeverBecomesReadyTimesOut(t *testing.T) {
	ro := canaryRollout(setWeight(20), pauseFor(""))
	ro.Spec.ProgressDeadlineSeconds = int32Ptr(60)
	w := newWorld(t, ro)
	w.settle()
	w.setImage("demo:broken")
	w.broken[w.hash()] = true
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageMoreReplicas)
	// One second past the 60s deadline, when it has passed.
	if w.last.RequeueAfter != 61*time.Second {
		t.Fatalf("a stuck update must ask to be woken just past its deadline, in 61s, got %s", w.last.RequeueAfter)
	}
	w.advance(61 * time.Second)
	w.settle()
	w.expectCondition(v1alpha1.RolloutProgressing, corev1.ConditionFalse, v1alpha1.ReasonProgressDeadline)
	w.expectPhase(v1alpha1.RolloutPhaseDegraded, `ProgressDeadlineExceeded: ReplicaSet "demo-`+w.hash()+`" has timed out progressing.`)
	// Stable keeps serving with the 4 pods of the 20% step, beside the one
	// broken canary pod.
	w.expectReplicas(map[string]int32{"rev1": 4, "rev2": 1})
}

func TestProgressDeadlineAbortReturnsToStable(t *testing.T) {
	ro := canaryRollout(setWeight(20), pauseFor(""))
	ro.Spec.ProgressDeadlineSeconds = int32Ptr(60)
	ro.Spec.ProgressDeadlineAbort = true
	w := newWorld(t, ro)
	w.settle()
	w.setImage("demo:broken")
	w.broken[w.hash()] = true
	w.settle()
	w.advance(61 * time.Second)
	w.settle()
	if !w.ro.Status.Abort {
		t.Fatalf("progressDeadlineAbort must abort, status %+v", w.ro.Status)
	}
	w.expectReplicas(map[string]int32{"rev1": 5})
	if want := `RolloutAborted: Rollout aborted update to revision 2: ReplicaSet "demo-` + w.hash() + `" has timed out progressing.`; w.ro.Status.Message != want {
		t.Fatalf("message = %q, want %q", w.ro.Status.Message, want)
	}
}

func TestMissingReplicasAreDefaulted(t *testing.T) {
	ro := canaryRollout()
	ro.Spec.Replicas = nil
	w := newWorld(t, ro)
	p := w.step()
	if !p.DefaultReplicas {
		t.Fatal("a Rollout without spec.replicas must get replicas: 1")
	}
	w.settle()
	w.expectReplicas(map[string]int32{"rev1": 1})
}

func TestInvalidSpecStopsWithAClearMessage(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*v1alpha1.Rollout)
		want   string
	}{
		"weight above 100": {func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{setWeight(120)} },
			"spec.strategy.canary.steps[0].setWeight: Invalid value: 120: SetWeight needs to be between 0 and 100"},
		"no strategy": {func(ro *v1alpha1.Rollout) { ro.Spec.Strategy = v1alpha1.RolloutStrategy{} },
			"spec.strategy: Required value: Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'"},
		"empty step": {func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{{}} },
			"Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause"},
		"selector not matching template": {func(ro *v1alpha1.Rollout) { ro.Spec.Template.Labels = map[string]string{"app": "other"} },
			"spec.template.metadata.labels: Invalid value"},
		"missing stable service": {func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.Canary.StableService = "nope" },
			`spec.strategy.canary.stableService: Invalid value: "nope": service "nope" not found`},
		"same stable and canary service": {func(ro *v1alpha1.Rollout) {
			ro.Spec.Strategy.Canary.StableService, ro.Spec.Strategy.Canary.CanaryService = "svc", "svc"
		}, "same service for the stable and canary services"},
	} {
		t.Run(name, func(t *testing.T) {
			ro := canaryRollout(setWeight(20))
			tc.mutate(ro)
			w := newWorld(t, ro)
			p := w.step()
			if p.Create != nil || len(p.ReplicaSetUpdates()) != 0 || len(p.ServiceSwitches) != 0 {
				t.Fatalf("an invalid Rollout must not change anything, plan %+v", p)
			}
			c := condition(p.Status, v1alpha1.InvalidSpec)
			if c == nil || !strings.Contains(c.Message, tc.want) || !strings.HasPrefix(c.Message, `The Rollout "demo" is invalid: `) {
				t.Fatalf("InvalidSpec condition = %+v, want a message containing %q", c, tc.want)
			}
			if p.Status.Phase != v1alpha1.RolloutPhaseDegraded || p.Status.Message != "InvalidSpec: "+c.Message {
				t.Fatalf("phase/message = %s/%s, want the condition's message after \"InvalidSpec: \"", p.Status.Phase, p.Status.Message)
			}
		})
	}
}

func TestFixingAnInvalidSpecClearsTheCondition(t *testing.T) {
	ro := canaryRollout(setWeight(120))
	w := newWorld(t, ro)
	w.step()
	w.ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{setWeight(20)}
	w.ro.Generation++
	w.settle()
	if condition(w.ro.Status, v1alpha1.InvalidSpec) != nil {
		t.Fatal("InvalidSpec must go once the spec is valid")
	}
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
}

func TestScalingEventResizesWithoutMovingSteps(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor("")))
	w.settle()
	w.ro.Spec.Replicas = int32Ptr(8)
	w.ro.Generation++
	w.settle()
	w.expectReplicas(map[string]int32{"rev1": 8})
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
}

func TestRevisionHistoryLimitDeletesOldestScaledDownReplicaSets(t *testing.T) {
	ro := canaryRollout()
	ro.Spec.RevisionHistoryLimit = int32Ptr(1)
	w := newWorld(t, ro)
	w.settle()
	for _, image := range []string{"demo:v2", "demo:v3", "demo:v4"} {
		w.advance(time.Minute)
		w.setImage(image)
		w.settle()
	}
	if len(w.rss) != 2 {
		t.Fatalf("want the current and one old ReplicaSet, have %v", w.replicaCounts())
	}
	w.expectReplicas(map[string]int32{"rev4": 5})
	if _, ok := w.replicaCounts()["rev3"]; !ok {
		t.Fatalf("the newest old ReplicaSet must be kept, have %v", w.replicaCounts())
	}
}

func statusDiff(a, b v1alpha1.RolloutStatus) (bool, string) {
	if a.Phase != b.Phase || a.Message != b.Message || len(a.Conditions) != len(b.Conditions) {
		return true, "phase or conditions"
	}
	for i := range a.Conditions {
		if a.Conditions[i] != b.Conditions[i] {
			return true, string(a.Conditions[i].Type)
		}
	}
	return false, ""
}

func TestAntiAffinityKeepsTheCanaryOffStableNodes(t *testing.T) {
	ro := canaryRollout(setWeight(20), pauseFor(""))
	ro.Spec.Strategy.Canary.AntiAffinity = &v1alpha1.AntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: &v1alpha1.PreferredDuringSchedulingIgnoredDuringExecution{Weight: 40},
	}
	w := newWorld(t, ro)
	w.settle()
	stable := w.hash()
	if a := w.rss["demo-"+stable].Spec.Template.Spec.Affinity; a != nil {
		t.Fatalf("the first revision has no stable to avoid, got affinity %+v", a)
	}
	w.setImage("demo:v2")
	w.settle()
	a := w.rss["demo-"+w.hash()].Spec.Template.Spec.Affinity
	if a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Fatalf("canary affinity = %+v, want one preferred anti-affinity term", a)
	}
	term := a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0]
	if term.Weight != 40 || term.PodAffinityTerm.TopologyKey != hostnameTopology ||
		term.PodAffinityTerm.LabelSelector.MatchExpressions[0].Values[0] != stable {
		t.Fatalf("anti-affinity term = %+v, want weight 40 against hash %s", term, stable)
	}
	if w.ro.Status.CurrentPodHash != w.hash() {
		t.Fatal("the injected term must not change the revision's hash")
	}
}

func TestEphemeralMetadataFollowsTheRoles(t *testing.T) {
	ro := canaryRollout(setWeight(20), pauseFor(""))
	ro.Spec.Strategy.Canary.CanaryMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "canary"}}
	ro.Spec.Strategy.Canary.StableMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "stable"}}
	w := newWorld(t, ro)
	w.settle()
	first := "demo-" + w.hash()
	if got := w.rss[first].Spec.Template.Labels["role"]; got != "stable" {
		t.Fatalf("the only revision's pods are stable, got role=%q", got)
	}
	w.setImage("demo:v2")
	w.settle()
	second := "demo-" + w.hash()
	if got := w.rss[second].Spec.Template.Labels["role"]; got != "canary" {
		t.Fatalf("canary pods get role=canary, got %q", got)
	}
	if w.rss[second].Annotations[v1alpha1.AnnotationEphemeralMetadata] != `{"labels":{"role":"canary"}}` {
		t.Fatalf("ephemeral-metadata annotation = %q", w.rss[second].Annotations[v1alpha1.AnnotationEphemeralMetadata])
	}
	for _, got := range w.podLabels(second, "role") {
		if got != "canary" {
			t.Fatalf("running canary pods carry role=%q, want canary", got)
		}
	}
	w.promote()
	w.settle()
	if got := w.rss[second].Spec.Template.Labels["role"]; got != "stable" {
		t.Fatalf("after promotion the new stable pods get role=stable, got %q", got)
	}
	// The running pods are relabelled in place, not replaced.
	if got := w.podLabels(second, "role"); len(got) != 5 || strings.Join(got, ",") != "stable,stable,stable,stable,stable" {
		t.Fatalf("pods of the promoted revision carry role=%v, want stable on all 5", got)
	}
	if w.ro.Status.CurrentPodHash != w.hash() {
		t.Fatal("ephemeral metadata must not change the revision's hash")
	}
}

func TestRollbackWithinWindowSkipsSteps(t *testing.T) {
	ro := canaryRollout(setWeight(20), pauseFor(""))
	ro.Spec.RollbackWindow = &v1alpha1.RollbackWindowSpec{Revisions: 3}
	w := newWorld(t, ro)
	w.settle()
	w.advance(time.Minute)
	w.setImage("demo:v2")
	w.settle()
	w.promote()
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	// Undo to v1 while its ReplicaSet is still around.
	w.advance(time.Minute)
	w.setImage("demo:v1")
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectReplicas(map[string]int32{"rev3": 5})
	if len(w.ro.Status.PauseConditions) != 0 {
		t.Fatal("a rollback within the window must not pause")
	}
}

func TestRestartAtReplacesOldPodsWithinAvailability(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor("")))
	w.settle()
	at := metav1.NewTime(epoch.Add(time.Minute))
	w.ro.Spec.RestartAt = &at
	w.ro.Generation++
	w.step()
	if w.evicted != 0 || w.last.RequeueAfter != time.Minute {
		t.Fatalf("a restartAt a minute away must wait a minute, evicted %d, requeue %s", w.evicted, w.last.RequeueAfter)
	}
	w.expectPhase(v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageRestarting)
	w.advance(61 * time.Second)
	w.settle()
	if w.evicted != 5 {
		t.Fatalf("evicted %d pods, want all 5", w.evicted)
	}
	if w.maxEvict != 1 {
		t.Fatalf("evicted up to %d pods at once; maxUnavailable 25%% of 5 allows one", w.maxEvict)
	}
	if w.ro.Status.RestartedAt == nil || !w.ro.Status.RestartedAt.Equal(&at) {
		t.Fatalf("status.restartedAt = %v, want %v", w.ro.Status.RestartedAt, at)
	}
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectReplicas(map[string]int32{"rev1": 5})
}

func TestAReplicaSetFromAnEarlierControllerIsAdopted(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor("")))
	w.settle()
	// The ReplicaSet as an API server stores it (defaulted) under a hash an
	// older hashing scheme gave it.
	for name, rs := range w.rss {
		delete(w.rss, name)
		rs.Name = "demo-olderhash"
		rs.Labels[v1alpha1.LabelPodTemplateHash] = "olderhash"
		rs.Spec.Template.Labels[v1alpha1.LabelPodTemplateHash] = "olderhash"
		withPodDefaults(&rs.Spec.Template)
		w.rss[rs.Name] = rs
	}
	w.ro.Status.CurrentPodHash, w.ro.Status.StableRS = "olderhash", "olderhash"
	w.settle()
	if len(w.rss) != 1 || w.rss["demo-olderhash"] == nil {
		t.Fatalf("the old ReplicaSet was replaced instead of adopted: %v", w.replicaCounts())
	}
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	// A real change of template still makes a new revision.
	w.setImage("demo:v2")
	w.settle()
	w.expectReplicas(map[string]int32{"rev1": 4, "rev2": 1})
}

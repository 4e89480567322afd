package explain

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// The recorded objects below are what a controller leaves for the demo's
// guestbook Rollout (steps: 20% -> pause -> analysis -> 50% -> pause 5s),
// written by hand with upstream's fields, reasons and messages only.

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func ts(s int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(s) * time.Second)) }

func tsPtr(s int) *metav1.Time { t := ts(s); return &t }

func guestbook() *v1alpha1.Rollout {
	five, twenty, fifty := int32(5), int32(20), int32(50)
	d := intstr.FromString("5s")
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "guestbook", Namespace: "demo", UID: "ro-uid", Generation: 3},
		Spec: v1alpha1.RolloutSpec{Replicas: &five, Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
			Steps: []v1alpha1.CanaryStep{{SetWeight: &twenty}, {Pause: &v1alpha1.RolloutPause{}},
				{Analysis: &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "success-rate"}}}},
				{SetWeight: &fifty}, {Pause: &v1alpha1.RolloutPause{Duration: &d}}}}}},
	}
}

func replicaSet(rev int, hash, image string, created, replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "guestbook-" + hash, Namespace: "demo", CreationTimestamp: ts(int(created)),
			Labels:      map[string]string{v1alpha1.LabelPodTemplateHash: hash},
			Annotations: map[string]string{v1alpha1.AnnotationRevision: fmt.Sprint(rev)}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "guestbook", Image: "registry.example.com/guestbook:" + image}}}}},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, AvailableReplicas: replicas},
	}
}

func event(s int, reason, message string) corev1.Event {
	return corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Rollout", Name: "guestbook"},
		Reason: reason, Message: message, LastTimestamp: ts(s)}
}

// successRateRun is the analysis of step 3 (index 2) with these values;
// each value's verdict is that of `result[0] >= 0.99`, or, with
// failBelow, Inconclusive between failBelow and 0.99.
func successRateRun(hash string, start int, phase v1alpha1.AnalysisPhase, values ...float64) *v1alpha1.AnalysisRun {
	three := intstr.FromInt32(3)
	m := v1alpha1.Metric{Name: "success-rate", Interval: "2s", Count: &three, SuccessCondition: "result[0] >= 0.99"}
	res := v1alpha1.MetricResult{Name: "success-rate", Phase: phase}
	for i, v := range values {
		verdict := v1alpha1.AnalysisPhaseSuccessful
		if v < 0.99 {
			verdict = phase
		}
		res.Measurements = append(res.Measurements, v1alpha1.Measurement{Phase: verdict, Value: fmt.Sprintf("[%g]", v),
			StartedAt: tsPtr(start + 2*i), FinishedAt: tsPtr(start + 2*i)})
		res.Count++
		switch verdict {
		case v1alpha1.AnalysisPhaseSuccessful:
			res.Successful++
		case v1alpha1.AnalysisPhaseFailed:
			res.Failed++
		case v1alpha1.AnalysisPhaseInconclusive:
			res.Inconclusive++
		}
	}
	return &v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{Name: "guestbook-" + hash + "-2", Namespace: "demo", CreationTimestamp: ts(start),
			Labels: map[string]string{v1alpha1.LabelPodTemplateHash: hash, v1alpha1.LabelRolloutType: v1alpha1.RolloutTypeStep, v1alpha1.LabelStepIndex: "2"}},
		Spec:   v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{m}},
		Status: v1alpha1.AnalysisRunStatus{Phase: phase, StartedAt: tsPtr(start), MetricResults: []v1alpha1.MetricResult{res}},
	}
}

// v2Events are the events of v2's release (revision 2), from t0+100s.
func v2Events() []corev1.Event {
	return []corev1.Event{
		event(100, "RolloutUpdated", "Rollout updated to revision 2"),
		event(100, "ScalingReplicaSet", "Scaled up ReplicaSet guestbook-v2hash (revision 2) from 0 to 1"),
		event(101, "RolloutStepCompleted", "Rollout step 1/5 completed (setWeight: 20)"),
		event(101, "RolloutPaused", "Rollout is paused (CanaryPauseStep)"),
		event(160, "RolloutResumed", "Rollout is resumed"),
		event(160, "RolloutStepCompleted", "Rollout step 2/5 completed (pause)"),
		event(165, "RolloutStepCompleted", "Rollout step 3/5 completed (analysis)"),
		event(165, "ScalingReplicaSet", "Scaled up ReplicaSet guestbook-v2hash (revision 2) from 1 to 3"),
		event(166, "RolloutStepCompleted", "Rollout step 4/5 completed (setWeight: 50)"),
		event(171, "RolloutStepCompleted", "Rollout step 5/5 completed (pause: 5s)"),
		event(171, "ScalingReplicaSet", "Scaled up ReplicaSet guestbook-v2hash (revision 2) from 3 to 5"),
		event(172, "RolloutCompleted", "Rollout completed update to revision 2 (v2hash): Completed all 5 canary steps"),
	}
}

// passed: v2 went through every step and is stable.
func passed() Input {
	ro := guestbook()
	ro.Status = v1alpha1.RolloutStatus{CurrentPodHash: "v2hash", StableRS: "v2hash", Phase: v1alpha1.RolloutPhaseHealthy,
		CurrentStepIndex: ptr32(5), Replicas: 5, AvailableReplicas: 5}
	ro.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl-argo-rollouts", Operation: "Update", Subresource: "status", Time: tsPtr(160)}}
	return Input{Rollout: ro, Now: t0.Add(200 * time.Second),
		ReplicaSets:  []*appsv1.ReplicaSet{replicaSet(1, "v1hash", "v1", 0, 0), replicaSet(2, "v2hash", "v2", 100, 5)},
		AnalysisRuns: []*v1alpha1.AnalysisRun{successRateRun("v2hash", 160, v1alpha1.AnalysisPhaseSuccessful, 0.995, 0.995, 0.995)},
		Events:       append([]corev1.Event{event(0, "RolloutCompleted", "Rollout completed update to revision 1 (v1hash): Initial deploy")}, v2Events()...)}
}

// aborted: v3's analysis measured 0.8 and the controller aborted it.
func aborted() Input {
	in := passed()
	ro := in.Rollout
	ro.Status = v1alpha1.RolloutStatus{CurrentPodHash: "v3hash", StableRS: "v2hash", Phase: v1alpha1.RolloutPhaseDegraded,
		Message: "RolloutAborted: Rollout aborted update to revision 3: Metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)",
		Abort:   true, AbortedAt: tsPtr(262), CurrentStepIndex: ptr32(2), Replicas: 5, AvailableReplicas: 5}
	in.ReplicaSets = append(in.ReplicaSets, replicaSet(3, "v3hash", "v3", 200, 0))
	in.AnalysisRuns = append(in.AnalysisRuns, successRateRun("v3hash", 260, v1alpha1.AnalysisPhaseFailed, 0.995, 0.8))
	in.Events = append(in.Events,
		event(200, "RolloutUpdated", "Rollout updated to revision 3"),
		event(200, "ScalingReplicaSet", "Scaled up ReplicaSet guestbook-v3hash (revision 3) from 0 to 1"),
		event(201, "RolloutStepCompleted", "Rollout step 1/5 completed (setWeight: 20)"),
		event(201, "RolloutPaused", "Rollout is paused (CanaryPauseStep)"),
		event(260, "RolloutStepCompleted", "Rollout step 2/5 completed (pause)"),
		event(262, "RolloutAborted", "Rollout aborted update to revision 3: Metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)"),
		event(265, "ScalingReplicaSet", "Scaled down ReplicaSet guestbook-v3hash (revision 3) from 1 to 0"))
	in.Now = t0.Add(300 * time.Second)
	return in
}

// inconclusive: v3's analysis could not decide; the Rollout waits.
func inconclusive() Input {
	in := aborted()
	ro := in.Rollout
	ro.Status = v1alpha1.RolloutStatus{CurrentPodHash: "v3hash", StableRS: "v2hash", Phase: v1alpha1.RolloutPhasePaused,
		Message: "InconclusiveAnalysisRun", CurrentStepIndex: ptr32(2), ControllerPause: true, Replicas: 6, AvailableReplicas: 6,
		PauseConditions: []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonInconclusiveAnalysis, StartTime: ts(264)}}}
	in.ReplicaSets[2] = replicaSet(3, "v3hash", "v3", 200, 1)
	run := successRateRun("v3hash", 260, v1alpha1.AnalysisPhaseInconclusive, 0.995, 0.995, 0.97)
	run.Spec.Metrics[0].FailureCondition = "result[0] < 0.95"
	in.AnalysisRuns[1] = run
	in.Events = in.Events[:len(in.Events)-2]
	in.Events = append(in.Events, event(264, "RolloutPaused", "Rollout is paused (InconclusiveAnalysisRun)"))
	return in
}

func ptr32(v int32) *int32 { return &v }

package plan

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// condition returns the condition of a type, or nil.
func condition(s v1alpha1.RolloutStatus, t v1alpha1.RolloutConditionType) *v1alpha1.RolloutCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			c := s.Conditions[i]
			return &c
		}
	}
	return nil
}

// setCondition writes a condition, keeping the old one (and its times) when
// neither status nor reason changes, and the old transition time when only
// the reason does. It reports whether anything was written.
func setCondition(s *v1alpha1.RolloutStatus, c v1alpha1.RolloutCondition) bool {
	old := condition(*s, c.Type)
	if old != nil && old.Status == c.Status && old.Reason == c.Reason {
		return false
	}
	if old != nil && old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	}
	removeCondition(s, c.Type)
	s.Conditions = append(s.Conditions, c)
	return true
}

func removeCondition(s *v1alpha1.RolloutStatus, t v1alpha1.RolloutConditionType) {
	var kept []v1alpha1.RolloutCondition
	for _, c := range s.Conditions {
		if c.Type != t {
			kept = append(kept, c)
		}
	}
	s.Conditions = kept
}

func newCondition(now time.Time, t v1alpha1.RolloutConditionType, status corev1.ConditionStatus, reason, message string) v1alpha1.RolloutCondition {
	ts := metav1.NewTime(now)
	return v1alpha1.RolloutCondition{Type: t, Status: status, LastUpdateTime: ts, LastTransitionTime: ts, Reason: reason, Message: message}
}

// observed tells whether the observed status was written for the current
// generation of the spec.
func observed(ro *v1alpha1.Rollout) bool {
	return ro.Status.ObservedGeneration == strconv.FormatInt(ro.Generation, 10)
}

// completed tells whether the desired revision is the stable one.
func completed(s *v1alpha1.RolloutStatus) bool {
	return s.StableRS != "" && s.StableRS == s.CurrentPodHash
}

// healthy tells whether the rollout has finished its update with every pod
// updated and available.
func healthy(ro *v1alpha1.Rollout, s *v1alpha1.RolloutStatus) bool {
	replicas := specReplicas(ro)
	done := true
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		done = s.BlueGreen.ActiveSelector == s.CurrentPodHash &&
			(bg.PreviewService == "" || s.BlueGreen.PreviewSelector == s.CurrentPodHash)
	}
	if c := ro.Spec.Strategy.Canary; c != nil {
		allSteps := true
		if n := int32(len(c.Steps)); n > 0 && s.CurrentStepIndex != nil {
			allSteps = *s.CurrentStepIndex == n
		}
		done = allSteps && completed(s) && s.Replicas == replicas
	}
	return s.UpdatedReplicas == replicas && s.AvailableReplicas == replicas && observed(ro) && done
}

// progressing tells whether the new status moved the rollout on from the
// observed one: more updated or available pods, fewer old ones, a step or a
// new stable revision.
func progressing(ro *v1alpha1.Rollout, s *v1alpha1.RolloutStatus) bool {
	old := ro.Status
	strategy := false
	if ro.Spec.Strategy.BlueGreen != nil {
		strategy = old.BlueGreen.ActiveSelector != s.BlueGreen.ActiveSelector ||
			old.BlueGreen.PreviewSelector != s.BlueGreen.PreviewSelector
	}
	if ro.Spec.Strategy.Canary != nil {
		stepMoved := s.CurrentStepIndex != nil && old.CurrentStepIndex != nil && *s.CurrentStepIndex != *old.CurrentStepIndex
		strategy = s.StableRS != old.StableRS || stepMoved || s.CurrentStepHash != old.CurrentStepHash
	}
	return s.UpdatedReplicas != old.UpdatedReplicas ||
		s.Replicas-s.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		s.ReadyReplicas > old.ReadyReplicas ||
		s.AvailableReplicas > old.AvailableReplicas ||
		strategy
}

// progressDeadline is spec.progressDeadlineSeconds as a duration.
func progressDeadline(ro *v1alpha1.Rollout) time.Duration {
	seconds := v1alpha1.DefaultProgressDeadlineSeconds
	if ro.Spec.ProgressDeadlineSeconds != nil {
		seconds = *ro.Spec.ProgressDeadlineSeconds
	}
	return time.Duration(seconds) * time.Second
}

// timedOut tells whether the Progressing condition has not moved for longer
// than the progress deadline.
func timedOut(ro *v1alpha1.Rollout, s *v1alpha1.RolloutStatus, now time.Time) bool {
	c := condition(*s, v1alpha1.RolloutProgressing)
	if c == nil || c.Reason == v1alpha1.ReasonRolloutAborted || c.Reason == v1alpha1.ReasonRolloutPaused {
		return false
	}
	if c.Reason == v1alpha1.ReasonProgressDeadline {
		return true
	}
	return c.LastUpdateTime.Add(progressDeadline(ro)).Before(now)
}

// Phase computes status.phase and status.message from the spec and the other
// status fields, the first rule that matches winning.
func Phase(spec v1alpha1.RolloutSpec, s v1alpha1.RolloutStatus) (v1alpha1.RolloutPhase, string) {
	for _, c := range s.Conditions {
		if c.Type == v1alpha1.InvalidSpec {
			return v1alpha1.RolloutPhaseDegraded, fmt.Sprintf("%s: %s", v1alpha1.InvalidSpec, c.Message)
		}
		if c.Reason == v1alpha1.ReasonRolloutAborted || c.Reason == v1alpha1.ReasonProgressDeadline {
			return v1alpha1.RolloutPhaseDegraded, fmt.Sprintf("%s: %s", c.Reason, c.Message)
		}
	}
	if spec.Paused {
		return v1alpha1.RolloutPhasePaused, v1alpha1.PhaseMessageManuallyPaused
	}
	if len(s.PauseConditions) > 0 {
		return v1alpha1.RolloutPhasePaused, string(s.PauseConditions[0].Reason)
	}
	if spec.RestartAt != nil && (s.RestartedAt == nil || !spec.RestartAt.Time.Equal(s.RestartedAt.Time)) {
		return v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageRestarting
	}
	replicas := v1alpha1.DefaultReplicas
	if spec.Replicas != nil {
		replicas = *spec.Replicas
	}
	if s.UpdatedReplicas < replicas {
		return v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageMoreReplicas
	}
	if s.AvailableReplicas < s.UpdatedReplicas {
		return v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageBecomingAvailable
	}
	promoted := s.StableRS != "" && s.StableRS == s.CurrentPodHash
	if bg := spec.Strategy.BlueGreen; bg != nil {
		if s.BlueGreen.ActiveSelector == "" || s.BlueGreen.ActiveSelector != s.CurrentPodHash {
			return v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageActiveCutover
		}
		if !promoted {
			post := s.BlueGreen.PostPromotionAnalysisRunStatus
			if bg.PostPromotionAnalysis != nil && (post == nil || !post.Status.Completed()) {
				return v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageWaitingAnalysis
			}
			return v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessagePostPromotion
		}
	} else if c := spec.Strategy.Canary; c != nil {
		if c.TrafficRouting == nil && s.Replicas > s.UpdatedReplicas {
			return v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageOldReplicasPending
		}
		if !promoted {
			return v1alpha1.RolloutPhaseProgressing, v1alpha1.PhaseMessageWaitingForAllSteps
		}
	}
	return v1alpha1.RolloutPhaseHealthy, ""
}

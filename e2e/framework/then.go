package framework

import (
	"context"
	"fmt"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// WaitFor polls the Rollout until cond holds, failing after DefaultTimeout
// with what was last seen.
func (r *R) WaitFor(what string, cond func(*v1alpha1.Rollout) bool) *R {
	r.f.Helper()
	var last *v1alpha1.Rollout
	err := wait.PollUntilContextTimeout(r.f.ctx, 200*time.Millisecond, DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		ro, err := r.f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(r.f.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = ro
		return cond(ro), nil
	})
	if err != nil {
		r.f.Fatalf("waiting for %s: %v; last status: %s", what, err, describe(last))
	}
	return r
}

// WaitForPhase waits until the Rollout has observed its spec and reports the phase.
func (r *R) WaitForPhase(phase v1alpha1.RolloutPhase) *R {
	r.f.Helper()
	return r.WaitFor("phase "+string(phase), func(ro *v1alpha1.Rollout) bool {
		return observed(ro) && ro.Status.Phase == phase
	})
}

// WaitForPhaseMessage waits for a phase with an exact message.
func (r *R) WaitForPhaseMessage(phase v1alpha1.RolloutPhase, message string) *R {
	r.f.Helper()
	return r.WaitFor(fmt.Sprintf("phase %s with message %q", phase, message), func(ro *v1alpha1.Rollout) bool {
		return observed(ro) && ro.Status.Phase == phase && ro.Status.Message == message
	})
}

// WaitForPausedAtStep waits until the canary pauses at a step.
func (r *R) WaitForPausedAtStep(step int32) *R {
	r.f.Helper()
	return r.WaitFor(fmt.Sprintf("a pause at step %d", step), func(ro *v1alpha1.Rollout) bool {
		return observed(ro) && ro.Status.Phase == v1alpha1.RolloutPhasePaused &&
			ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == step
	})
}

// WaitForReplicas waits until each named revision runs that many available pods
// and every other revision none.
func (r *R) WaitForReplicas(want map[string]int32) *R {
	r.f.Helper()
	var last map[string]int32
	err := wait.PollUntilContextTimeout(r.f.ctx, 200*time.Millisecond, DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		got := map[string]int32{}
		for _, rs := range r.ReplicaSets() {
			rev := "rev" + rs.Annotations[v1alpha1.AnnotationRevision]
			spec := int32(0)
			if rs.Spec.Replicas != nil {
				spec = *rs.Spec.Replicas
			}
			if spec != rs.Status.AvailableReplicas || spec != rs.Status.Replicas {
				got[rev] = -1 // still moving
				continue
			}
			if spec > 0 {
				got[rev] = spec
			}
		}
		last = got
		return reflect.DeepEqual(got, want), nil
	})
	if err != nil {
		r.f.Fatalf("waiting for ReplicaSets %v: last %v (-1: pods still moving)", want, last)
	}
	return r
}

// ExpectCondition checks a status condition now.
func (r *R) ExpectCondition(t v1alpha1.RolloutConditionType, status corev1.ConditionStatus, reason string) *R {
	r.f.Helper()
	ro := r.Get()
	for _, c := range ro.Status.Conditions {
		if c.Type == t {
			if c.Status != status || c.Reason != reason {
				r.f.Fatalf("condition %s is %s/%s, want %s/%s", t, c.Status, c.Reason, status, reason)
			}
			return r
		}
	}
	r.f.Fatalf("no %s condition in %+v", t, ro.Status.Conditions)
	return r
}

// WaitForServiceHash waits until a Service selects the pods of a revision
// (given by hash) and is marked as managed by this Rollout.
func (r *R) WaitForServiceHash(service, hash string) *R {
	r.f.Helper()
	var last map[string]string
	err := wait.PollUntilContextTimeout(r.f.ctx, 200*time.Millisecond, DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		svc, err := r.f.Env.Kube.CoreV1().Services(r.f.Namespace).Get(ctx, service, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = svc.Spec.Selector
		return svc.Spec.Selector[v1alpha1.LabelPodTemplateHash] == hash && svc.Annotations[v1alpha1.AnnotationManagedByRollouts] == r.Name, nil
	})
	if err != nil {
		r.f.Fatalf("waiting for Service %s to select %s: last selector %v", service, hash, last)
	}
	return r
}

// Consistently checks that cond keeps holding for d.
func (r *R) Consistently(what string, d time.Duration, cond func(*v1alpha1.Rollout) bool) *R {
	r.f.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ro := r.Get(); !cond(ro) {
			r.f.Fatalf("%s stopped holding: %s", what, describe(ro))
		}
		time.Sleep(250 * time.Millisecond)
	}
	return r
}

func observed(ro *v1alpha1.Rollout) bool {
	return ro.Status.ObservedGeneration == fmt.Sprint(ro.Generation)
}

func describe(ro *v1alpha1.Rollout) string {
	if ro == nil {
		return "<never read>"
	}
	s := ro.Status
	step := "nil"
	if s.CurrentStepIndex != nil {
		step = fmt.Sprint(*s.CurrentStepIndex)
	}
	return fmt.Sprintf("generation=%d observed=%s phase=%s message=%q step=%s current=%s stable=%s replicas=%d/%d/%d abort=%v pause=%v",
		ro.Generation, s.ObservedGeneration, s.Phase, s.Message, step, s.CurrentPodHash, s.StableRS,
		s.UpdatedReplicas, s.AvailableReplicas, s.Replicas, s.Abort, s.PauseConditions)
}

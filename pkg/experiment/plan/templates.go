package plan

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// template decides a template's ReplicaSet and Service and its status.
func (c *computation) template(t *v1alpha1.TemplateSpec) {
	prev := v1alpha1.TemplateStatus{Name: t.Name}
	if cur := c.old.TemplateStatusByName(t.Name); cur != nil {
		prev = *cur.DeepCopy()
	}
	ts := *prev.DeepCopy()
	desired := desiredReplicas(c.ex, c.old, t)
	blocked := len(c.unverified) > 0
	if blocked {
		desired = 0
	}
	rs := c.st.ReplicaSets[t.Name]
	if rs == nil {
		if blocked {
			// Nothing is created while an analysis cannot start.
			return
		}
		c.createReplicaSet(t, &ts)
	} else {
		c.service(t, &ts, rs, desired)
		c.scale(t, &ts, rs, desired)
	}
	c.counts(&ts, rs)
	if msg := c.st.Outcome.TemplateErrors[t.Name]; msg != "" {
		ts.Status, ts.Message = v1alpha1.TemplateStatusError, msg
	}
	c.assessTemplate(&ts, desired)
	if prev.Status != ts.Status {
		msg := fmt.Sprintf(MessageTemplateTransition, t.Name, prev.Status, ts.Status)
		if ts.Message != "" {
			msg += ": " + ts.Message
		}
		warn := ts.Status == v1alpha1.TemplateStatusFailed || ts.Status == v1alpha1.TemplateStatusError
		c.event(warn, EventPrefixTemplate+string(ts.Status), msg)
	}
	c.setTemplateStatus(ts)
}

// createReplicaSet plans a template's ReplicaSet, with no replicas: it is
// scaled up by the next reconcile. An ending experiment creates nothing
// (Argo Rollouts still creates it, empty). A name held by a ReplicaSet that
// is not the template's is recorded as a hash collision, as Argo Rollouts
// does; the name does not depend on the hash, so the template then waits
// for its progress deadline.
func (c *computation) createReplicaSet(t *v1alpha1.TemplateSpec, ts *v1alpha1.TemplateStatus) {
	if c.ending {
		return
	}
	if c.st.Outcome.Collisions[t.Name] {
		if ts.CollisionCount == nil {
			one := int32(1)
			ts.CollisionCount = &one
		}
		return
	}
	c.p.CreateReplicaSets = append(c.p.CreateReplicaSets, NewReplicaSet(c.ex, t, ts.CollisionCount))
	if c.st.Outcome.TemplateErrors[t.Name] == "" {
		ts.LastTransitionTime = &c.now
	}
}

// service creates a template's Service while it should run pods, and
// deletes it once none is available any more.
func (c *computation) service(t *v1alpha1.TemplateSpec, ts *v1alpha1.TemplateStatus, rs *appsv1.ReplicaSet, desired int32) {
	svc := c.st.Services[t.Name]
	switch {
	case t.Service == nil || desired == 0:
		if svc != nil && (t.Service == nil || rs.Status.AvailableReplicas == 0) {
			c.p.DeleteServices = append(c.p.DeleteServices, svc)
			ts.ServiceName, ts.PodTemplateHash = "", ""
		}
		return
	case svc != nil:
		if ts.ServiceName == "" {
			ts.ServiceName, ts.PodTemplateHash = svc.Name, rs.Labels[v1alpha1.LabelPodTemplateHash]
		}
		return
	}
	ports := servicePorts(rs)
	if len(ports) == 0 {
		return
	}
	name := serviceName(c.ex, t)
	if other := c.st.NamedServices[name]; other != nil {
		if !Owns(c.ex, other, t.Name) {
			ts.Status = v1alpha1.TemplateStatusError
			ts.Message = fmt.Sprintf(MessageServiceCreateFailed, name, t.Name, fmt.Sprintf(MessageServiceNotOwned, name, t.Name))
			return
		}
	} else {
		c.p.CreateServices = append(c.p.CreateServices, newService(c.ex, t, rs, ports))
	}
	ts.ServiceName, ts.PodTemplateHash = name, rs.Labels[v1alpha1.LabelPodTemplateHash]
}

// scale brings a template's ReplicaSet to its desired replicas. Scaling
// down waits for the scale-down deadline, which is set on the ReplicaSet
// (annotation scale-down-deadline) when the template stops.
func (c *computation) scale(t *v1alpha1.TemplateSpec, ts *v1alpha1.TemplateStatus, rs *appsv1.ReplicaSet, desired int32) {
	upd := rs.DeepCopy()
	changed := c.scaleDownDeadline(upd, desired)
	cur := replicas(rs)
	if cur != desired {
		target := desired
		if desired == 0 {
			if left, ok := deadlineLeft(upd, c.now.Time); ok {
				target = cur
				c.after(left)
			}
		}
		if cur != target {
			upd.Spec.Replicas = &target
			changed = true
			dir := "up"
			if target < cur {
				dir = "down"
			}
			c.event(false, EventScalingReplicaSet, fmt.Sprintf(MessageScaled, dir, rs.Name, cur, target))
			ts.LastTransitionTime = &c.now
		}
	}
	if changed {
		c.p.UpdateReplicaSets = append(c.p.UpdateReplicaSets, upd)
	}
}

// scaleDownDeadline sets the deadline on a ReplicaSet that is to stop, or
// removes it when there is no delay. A ReplicaSet that runs again (after
// retry experiment) loses the deadline of its earlier run, which Argo
// Rollouts keeps and then scales down at once.
func (c *computation) scaleDownDeadline(rs *appsv1.ReplicaSet, desired int32) bool {
	_, has := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]
	delay := scaleDownDelaySeconds(c.ex)
	switch {
	case has && (desired != 0 || delay == 0):
		delete(rs.Annotations, v1alpha1.AnnotationScaleDownDeadline)
		return true
	case !has && desired == 0 && delay > 0 && replicas(rs) > 0:
		if rs.Annotations == nil {
			rs.Annotations = map[string]string{}
		}
		deadline := c.now.Add(time.Duration(delay) * time.Second).UTC().Format(time.RFC3339)
		rs.Annotations[v1alpha1.AnnotationScaleDownDeadline] = deadline
		return true
	}
	return false
}

// deadlineLeft is how long until the ReplicaSet's scale-down deadline, and
// whether it is still ahead. A deadline that does not parse has passed.
func deadlineLeft(rs *appsv1.ReplicaSet, now time.Time) (time.Duration, bool) {
	v, ok := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]
	if !ok {
		return 0, false
	}
	deadline, err := time.Parse(time.RFC3339, v)
	if err != nil || !deadline.After(now) {
		return 0, false
	}
	return deadline.Sub(now), true
}

func replicas(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// counts copies the ReplicaSet's pod counts into the template's status;
// any change restarts the progress deadline.
func (c *computation) counts(ts *v1alpha1.TemplateStatus, rs *appsv1.ReplicaSet) {
	var current, ready, available int32
	if rs != nil {
		current, ready, available = rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas
	}
	if ts.Replicas != current || ts.UpdatedReplicas != current || ts.ReadyReplicas != ready || ts.AvailableReplicas != available {
		ts.LastTransitionTime = &c.now
	}
	ts.Replicas, ts.UpdatedReplicas, ts.ReadyReplicas, ts.AvailableReplicas = current, current, ready, available
}

// assessTemplate moves a template that is not over yet: Running once its
// desired pods are available (Successful after the duration or when the
// experiment ends), Failed when they are not available when the progress
// deadline comes.
func (c *computation) assessTemplate(ts *v1alpha1.TemplateStatus, desired int32) {
	if ts.Status.Completed() {
		return
	}
	if desired == ts.AvailableReplicas {
		passed, _ := durationLeft(c.ex, c.old, c.now.Time)
		if passed || c.ending {
			ts.Status = v1alpha1.TemplateStatusSuccessful
		} else {
			ts.Status = v1alpha1.TemplateStatusRunning
		}
		return
	}
	from := c.now.Time
	if ts.LastTransitionTime != nil {
		from = ts.LastTransitionTime.Time
	}
	seconds := progressDeadlineSeconds(c.ex)
	switch {
	case !c.now.Time.Before(from.Add(time.Duration(seconds) * time.Second)):
		ts.Status = v1alpha1.TemplateStatusFailed
		ts.Message = fmt.Sprintf(MessageDeadlineExceeded, ts.Name, seconds)
	case c.ending:
		ts.Status = v1alpha1.TemplateStatusSuccessful
	default:
		ts.Status = v1alpha1.TemplateStatusProgressing
	}
}

package plan

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// switchServices points the stable Service at the stable revision and the
// canary Service at the desired one (at the stable one while aborted). A
// Service is never pointed at a ReplicaSet without an available pod, and one
// the Rollout does not manage yet is adopted only once the ReplicaSet is
// fully available.
func (p *planner) switchServices(aborting bool) {
	c := p.ro.Spec.Strategy.Canary
	stable := p.revs.stable
	if stable == nil {
		return
	}
	p.pointServiceWithEvent(c.StableService, stable)
	p.pointPingPongWithEvent()
	if aborting {
		p.pointServiceWithEvent(c.CanaryService, stable)
		return
	}
	p.pointServiceWithEvent(c.CanaryService, p.revs.newRS)
}

// pointPingPongWithEvent points the ping-pong Service that is the canary at
// the desired revision while an update is under way, as soon as it exists
// (the router sends it no traffic before the canary has available pods).
// The stable one is left as the last promotion made it.
func (p *planner) pointPingPongWithEvent() {
	s := p.ro.Status
	_, canary, ok := trafficrouting.PingPongServices(p.ro)
	if !ok || p.revs.newRS == nil || s.StableRS == s.CurrentPodHash {
		return
	}
	if svc := p.st.Services[canary]; svc != nil {
		p.switchServiceWithEvent(svc, p.revs.newRS.Labels[v1alpha1.LabelPodTemplateHash])
	}
}

func (p *planner) pointServiceWithEvent(name string, rs *appsv1.ReplicaSet) {
	if name == "" || rs == nil {
		return
	}
	svc, ok := p.st.Services[name]
	if !ok {
		return
	}
	hash := rs.Labels[v1alpha1.LabelPodTemplateHash]
	current := svc.Spec.Selector[v1alpha1.LabelPodTemplateHash]
	_, managed := svc.Annotations[v1alpha1.AnnotationManagedByRollouts]
	if current == hash && managed {
		return
	}
	if current != hash && ((!managed && !fullyAvailable(rs)) || rs.Status.AvailableReplicas == 0) {
		return
	}
	p.plan.ServiceSwitches = append(p.plan.ServiceSwitches, ServiceSwitch{Service: svc, Hash: hash})
	p.event(false, v1alpha1.EventSwitchService, fmt.Sprintf("Switched selector for service '%s' from '%s' to '%s'", svc.Name, current, hash))
}

// fullyAvailable tells whether every wanted pod of a scaled-up ReplicaSet is available.
func fullyAvailable(rs *appsv1.ReplicaSet) bool {
	n := rsReplicas(rs)
	return n != 0 && rs.Status.AvailableReplicas != 0 && n <= rs.Status.AvailableReplicas
}

// cleanupHistory deletes the oldest scaled-down ReplicaSets beyond the
// revision history limit.
func (p *planner) cleanupHistory() {
	limit := revisionHistoryLimit(p.ro)
	var candidates []*appsv1.ReplicaSet
	for _, rs := range p.revs.others {
		if rs.DeletionTimestamp == nil {
			candidates = append(candidates, rs)
		}
	}
	excess := int32(len(candidates)) - limit
	for i := int32(0); i < excess; i++ {
		rs := candidates[i] // oldest first
		if rs.Status.Replicas != 0 || rsReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		p.plan.Deletes = append(p.plan.Deletes, rs)
	}
}

// switchServiceWithEvent plans a Service switch (and the adoption of an unmanaged Service).
func (p *planner) switchServiceWithEvent(svc *corev1.Service, hash string) {
	current := svc.Spec.Selector[v1alpha1.LabelPodTemplateHash]
	if _, managed := svc.Annotations[v1alpha1.AnnotationManagedByRollouts]; managed && current == hash {
		return
	}
	p.plan.ServiceSwitches = append(p.plan.ServiceSwitches, ServiceSwitch{Service: svc, Hash: hash})
	p.event(false, v1alpha1.EventSwitchService, fmt.Sprintf("Switched selector for service '%s' from '%s' to '%s'", svc.Name, current, hash))
}

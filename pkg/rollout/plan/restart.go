package plan

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// restartRetry is how long to wait before trying again to evict pods that
// could not be evicted yet (availability budget used up, or a
// PodDisruptionBudget said no).
const restartRetry = 30 * time.Second

// restartPending tells whether spec.restartAt asks for pods to be replaced
// that have not been yet.
func restartPending(ro *v1alpha1.Rollout, now time.Time) bool {
	at := ro.Spec.RestartAt
	if at == nil || at.Time.After(now) {
		return false
	}
	return ro.Status.RestartedAt == nil || at.Time.After(ro.Status.RestartedAt.Time)
}

// restartPods evicts pods created before spec.restartAt, as many at a time as
// maxUnavailable allows, oldest revisions first. waiting reports whether
// pods were evicted in this reconcile, in which case the rest of the update
// waits for their replacements; restartedAt is set once no pod is older
// than spec.restartAt.
func (p *planner) restartPods() (waiting bool, restartedAt *metav1.Time) {
	ro := p.ro
	if at := ro.Spec.RestartAt; at != nil && at.Time.After(p.now) {
		p.plan.requeue(at.Time.Sub(p.now))
		return false, nil
	}
	if !restartPending(ro, p.now) {
		return false, nil
	}
	pods := p.restartCandidates()
	_, unavailable := surgeAndUnavailable(ro)
	concurrent := max(unavailable, 1)
	minAvailable := max(specReplicas(ro), sumReplicas(p.revs.all...)) - concurrent
	budget := p.availablePods(pods) - minAvailable

	stale, evicted := 0, 0
	for _, pod := range pods {
		if !pod.CreationTimestamp.Time.Before(ro.Spec.RestartAt.Time) {
			continue
		}
		stale++
		if budget <= 0 || pod.DeletionTimestamp != nil {
			continue
		}
		p.plan.Evictions = append(p.plan.Evictions, pod)
		budget--
		evicted++
	}
	if stale == 0 {
		at := *ro.Spec.RestartAt
		return false, &at
	}
	if evicted < stale {
		p.plan.requeue(restartRetry)
	}
	return evicted > 0, nil
}

// restartCandidates are the pods of the Rollout's existing ReplicaSets, in
// the order they are restarted: older revisions, then the stable one, then
// the desired one.
func (p *planner) restartCandidates() []*corev1.Pod {
	owned := map[string]int{} // ReplicaSet UID -> eviction priority
	order := []string{}
	for _, rs := range p.revs.others {
		order = append(order, string(rs.UID))
	}
	if p.revs.stable != nil && p.revs.stable != p.revs.newRS {
		order = append(order, string(p.revs.stable.UID))
	}
	if p.revs.newRS != nil && p.revs.newRS.UID != "" { // not one this reconcile creates
		order = append(order, string(p.revs.newRS.UID))
	}
	for i, uid := range order {
		owned[uid] = i
	}
	priority := func(pod *corev1.Pod) (int, bool) {
		for _, ref := range pod.OwnerReferences {
			if i, ok := owned[string(ref.UID)]; ok {
				return i, true
			}
		}
		return len(order), false
	}
	var pods []*corev1.Pod
	for _, pod := range p.st.Pods {
		if _, ok := priority(pod); ok {
			pods = append(pods, pod)
		}
	}
	sort.SliceStable(pods, func(i, j int) bool {
		a, _ := priority(pods[i])
		b, _ := priority(pods[j])
		return a < b
	})
	return pods
}

// availablePods counts pods that are ready for at least minReadySeconds and
// not being deleted.
func (p *planner) availablePods(pods []*corev1.Pod) int32 {
	minReady := time.Duration(p.ro.Spec.MinReadySeconds) * time.Second
	var n int32
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue &&
				(minReady == 0 || !c.LastTransitionTime.Add(minReady).After(p.now)) {
				n++
			}
		}
	}
	return n
}

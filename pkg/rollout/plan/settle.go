package plan

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// maxSettle bounds the plans one reconcile chains (see Settle).
const maxSettle = 4

// Settle plans one reconcile as the controller runs it: Compute, and while
// the plan so far decides nothing but a new status (a step completing, a
// pause starting or ending, a condition changing), also what the next
// reconcile would decide from that status, with the same observed world
// and the same time. The chain stops at the first plan that writes
// anything else (a ReplicaSet, a router object, an AnalysisRun...), at a
// plan that changes nothing more, before a step plugin would have to be
// called, and after maxSettle plans.
//
// One reconcile then writes with one status patch what would otherwise
// take a patch, a watch event and a reconcile each: a canary whose
// setWeight step completes starts its pause in the same write, and a pause
// that ends on the last step promotes in the same write. What is written
// is what the reconciles in turn would have written last, so a restart
// before the patch repeats the same decisions; the events of every plan
// are kept, in order.
func Settle(st State) Plan {
	p := Compute(st)
	for range maxSettle - 1 {
		if p.writesBeyondStatus() || equality.Semantic.DeepEqual(p.Status, st.Rollout.Status) {
			return p
		}
		next := st
		ro := st.Rollout.DeepCopy()
		ro.Status = *p.Status.DeepCopy()
		next.Rollout = ro
		// The answers were for the observed status, which p recorded.
		next.StepPluginAnswers = nil
		if len(StepPluginCalls(next)) > 0 {
			return p // a plugin must be asked first: the next reconcile does
		}
		q := Compute(next)
		if equality.Semantic.DeepEqual(q.Status, p.Status) && !q.writesBeyondStatus() {
			return p // settled: keep p's timers
		}
		q.Events = append(p.Events, q.Events...)
		if q.Finished == nil {
			q.Finished = p.Finished
		}
		p, st = q, next
	}
	return p
}

// writesBeyondStatus reports whether the plan writes anything but the
// Rollout's status (events are not writes of the Rollout's world).
func (p Plan) writesBeyondStatus() bool {
	return p.DefaultReplicas || p.Revision != "" || p.WorkloadGeneration != "" || p.WorkloadReplicas != nil ||
		p.Create != nil || len(p.Grows) > 0 || len(p.Updates) > 0 || len(p.Deletes) > 0 || len(p.PodPatches) > 0 ||
		len(p.CreateRuns) > 0 || len(p.TerminateRuns) > 0 || len(p.DeleteRuns) > 0 ||
		p.CreateExperiment != nil || len(p.TerminateExperiments) > 0 || len(p.DeleteExperiments) > 0 ||
		len(p.RouterWrites) > 0 || len(p.Evictions) > 0 || len(p.ServiceSwitches) > 0
}

// ReplicaSetUpdates is every ReplicaSet update of the plan: the grows, then
// the other updates.
func (p Plan) ReplicaSetUpdates() []*appsv1.ReplicaSet {
	return append(slices.Clip(p.Grows), p.Updates...)
}

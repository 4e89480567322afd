package plan

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// maxSettle bounds the plans one reconcile chains (see Settle).
const maxSettle = 4

// Settle plans one reconcile as the controller runs it: Compute, and while
// the plan so far decides nothing but a new status (a step completing, a
// pause starting or ending, a condition changing), also what the next
// reconcile would decide from that status, with the same observed world
// and the same time, as long as that too is only a new status. The start
// of a new revision (its ReplicaSet and revision annotation, or a status
// reset to step 0 of another template or step list) is the one plan
// Settle takes the next plan after whole, writes included, and stops. The
// chain also stops at a plan that changes nothing more, before a step
// plugin would have to be asked, and after maxSettle plans.
//
// One reconcile then writes with one status patch what would otherwise
// take a patch, a watch event and a reconcile each: a new revision's
// ReplicaSet is created at the size its first step wants, and a canary
// whose setWeight step completes starts its pause in the same write.
//
// Only plans whose decisions do not depend on what a later plan writes
// are chained, so that a controller stopped after any write and before the
// status patch decides the same writes again, never their undoing: a
// status-only plan followed by writes is not, since from the old status
// the writes made would look wrong (a canary grown for the next step
// before the status records it is shrunk back for the current one). The
// start of a new revision is: it resets the status whatever the
// ReplicaSets are. The events of every plan are kept, in order.
func Settle(st State) Plan {
	p := Compute(st)
	for range maxSettle - 1 {
		next, ok := afterPlan(st, p)
		if !ok {
			return p
		}
		q := Compute(next)
		if equality.Semantic.DeepEqual(q.Status, p.Status) && !q.writesBeyondStatus() {
			return p // settled: keep p's timers
		}
		starts := startsRevision(st, p)
		if !starts && q.writesBeyondStatus() {
			return p // q's writes are the next reconcile's, after p's status
		}
		merged := chain(p, q)
		if starts {
			return merged
		}
		p, st = merged, next
	}
	return p
}

// afterPlan is the state the next reconcile would observe once p is
// written, and whether Settle may plan on from it.
func afterPlan(st State, p Plan) (State, bool) {
	if p.writesBeyondNewRevision() || (p.Create == nil && p.Revision == "" && equality.Semantic.DeepEqual(p.Status, st.Rollout.Status)) {
		return st, false
	}
	next := st
	ro := st.Rollout.DeepCopy()
	ro.Status = *p.Status.DeepCopy()
	if p.Revision != "" {
		if ro.Annotations == nil {
			ro.Annotations = map[string]string{}
		}
		ro.Annotations[v1alpha1.AnnotationRevision] = p.Revision
	}
	next.Rollout = ro
	if p.Create != nil {
		next.ReplicaSets = append(slices.Clip(st.ReplicaSets), p.Create)
	}
	// The answers were for the observed status, which p recorded.
	next.StepPluginAnswers = nil
	if len(StepPluginCalls(next)) > 0 {
		return st, false // a plugin must be asked first: the next reconcile does
	}
	return next, true
}

// startsRevision tells whether p starts a new revision or new steps: it
// creates the ReplicaSet, or resets the status to step 0 of another pod
// template or step list, which it does whatever the ReplicaSets are.
func startsRevision(st State, p Plan) bool {
	was := st.Rollout.Status
	return p.Create != nil || p.Status.CurrentPodHash != was.CurrentPodHash || p.Status.CurrentStepHash != was.CurrentStepHash
}

// chain is q, planned from the state after p, with what p wrote that q
// does not write again: p's events first, the update p finished, the new
// revision, and p's ReplicaSet create carrying q's changes to it (created
// at its size rather than created empty and then scaled).
func chain(p, q Plan) Plan {
	q.Events = append(slices.Clip(p.Events), q.Events...)
	if q.Finished == nil {
		q.Finished = p.Finished
	}
	if q.Revision == "" {
		q.Revision = p.Revision
	}
	if p.Create != nil {
		q.Create = p.Create
		q.Grows = foldInto(&q.Create, q.Grows)
		q.Updates = foldInto(&q.Create, q.Updates)
	}
	return q
}

// foldInto takes the change to *create out of updates, if any, into
// *create.
func foldInto(create **appsv1.ReplicaSet, updates []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	return slices.DeleteFunc(slices.Clone(updates), func(rs *appsv1.ReplicaSet) bool {
		if rs.Name != (*create).Name {
			return false
		}
		*create = rs
		return true
	})
}

// writesBeyondStatus reports whether the plan writes anything but the
// Rollout's status (events are not writes of the Rollout's world).
func (p Plan) writesBeyondStatus() bool {
	return p.Create != nil || p.Revision != "" || p.writesBeyondNewRevision()
}

// writesBeyondNewRevision reports whether the plan writes anything but the
// Rollout's status, a new ReplicaSet and the revision annotation.
func (p Plan) writesBeyondNewRevision() bool {
	return p.DefaultReplicas || p.WorkloadGeneration != "" || p.WorkloadReplicas != nil ||
		len(p.Grows) > 0 || len(p.Updates) > 0 || len(p.Deletes) > 0 || len(p.PodPatches) > 0 ||
		len(p.CreateRuns) > 0 || len(p.TerminateRuns) > 0 || len(p.DeleteRuns) > 0 ||
		p.CreateExperiment != nil || len(p.TerminateExperiments) > 0 || len(p.DeleteExperiments) > 0 ||
		len(p.RouterWrites) > 0 || len(p.Evictions) > 0 || len(p.ServiceSwitches) > 0
}

// ReplicaSetUpdates is every ReplicaSet update of the plan: the grows, then
// the other updates.
func (p Plan) ReplicaSetUpdates() []*appsv1.ReplicaSet {
	return append(slices.Clip(p.Grows), p.Updates...)
}

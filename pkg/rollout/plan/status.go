package plan

import (
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// pauseDecisions collects the pause and abort changes of one reconcile.
type pauseDecisions struct {
	added        []v1alpha1.PauseReason
	removed      map[v1alpha1.PauseReason]bool
	clear        bool
	abort        bool
	abortMessage string
	unabort      bool
}

func (d *pauseDecisions) add(r v1alpha1.PauseReason) { d.added = append(d.added, r) }

func (d *pauseDecisions) remove(r v1alpha1.PauseReason) {
	if d.removed == nil {
		d.removed = map[v1alpha1.PauseReason]bool{}
	}
	d.removed[r] = true
}

func (d *pauseDecisions) clearAll()    { d.clear = true }
func (d *pauseDecisions) removeAbort() { d.unabort = true }

func (d *pauseDecisions) addAbort(message string) {
	d.abort = true
	d.abortMessage = message
}

// merge takes in the decisions another phase handed on.
func (d *pauseDecisions) merge(o pauseDecisions) {
	d.added = append(d.added, o.added...)
	for r := range o.removed {
		d.remove(r)
	}
	d.clear = d.clear || o.clear
	d.unabort = d.unabort || o.unabort
	if o.abort {
		d.addAbort(o.abortMessage)
	}
}

// aborted tells whether the rollout is aborted after this reconcile's decisions.
func (d *pauseDecisions) aborted(ro *v1alpha1.Rollout) bool {
	return !d.unabort && (d.abort || ro.Status.Abort)
}

func pauseCondition(ro *v1alpha1.Rollout, reason v1alpha1.PauseReason) *v1alpha1.PauseCondition {
	for i := range ro.Status.PauseConditions {
		if ro.Status.PauseConditions[i].Reason == reason {
			return &ro.Status.PauseConditions[i]
		}
	}
	return nil
}

// applyPauseWithEvents writes abort, abortedAt, pauseConditions and
// controllerPause, recording RolloutPaused for each new pause condition and
// RolloutResumed when the controller's pause ends. While aborted there are
// no pause conditions. controllerPause stays true after the user cleared the
// conditions until the next reconcile acts on it.
func (p *planner) applyPauseWithEvents(s *v1alpha1.RolloutStatus) {
	old := p.ro.Status
	d := &p.pause
	s.PauseConditions, s.ControllerPause = nil, false
	if d.aborted(p.ro) {
		s.Abort = true
		s.AbortedAt = old.AbortedAt
		if s.AbortedAt == nil {
			now := metav1.NewTime(p.now)
			s.AbortedAt = &now
		}
		return
	}
	s.Abort, s.AbortedAt = false, nil
	if d.clear {
		return
	}
	controllerPause := old.ControllerPause
	seen := map[v1alpha1.PauseReason]bool{}
	var conds []v1alpha1.PauseCondition
	for _, c := range old.PauseConditions {
		if !d.removed[c.Reason] {
			conds = append(conds, c)
		}
		seen[c.Reason] = true
	}
	for _, r := range d.added {
		if !seen[r] {
			// Whole seconds, as the API server keeps them: the timer set now
			// fires when the stored pause ends, not up to a second later.
			conds = append(conds, v1alpha1.PauseCondition{Reason: r, StartTime: metav1.NewTime(p.now.Truncate(time.Second))})
			seen[r] = true
			controllerPause = true
			p.event(false, v1alpha1.EventRolloutPaused, fmt.Sprintf(v1alpha1.EventMessageRolloutPaused, r))
		}
	}
	if len(conds) > 0 {
		s.PauseConditions, s.ControllerPause = conds, controllerPause
	} else if old.ControllerPause {
		p.event(false, v1alpha1.EventRolloutResumed, v1alpha1.MessageRolloutResumed)
	}
}

// finishStatus completes the status: observed generation, the progress
// deadline, pause and abort fields, conditions, the update's duration record,
// phase and message. With full=false (a pure scaling event) only counts, the
// duration record and phase change.
func (p *planner) finishStatus(s v1alpha1.RolloutStatus, full bool) {
	ro := p.ro
	s.ObservedGeneration = strconv.FormatInt(ro.Generation, 10)
	if !full {
		s.Abort, s.AbortedAt = ro.Status.Abort, ro.Status.AbortedAt
		s.PauseConditions, s.ControllerPause = ro.Status.PauseConditions, ro.Status.ControllerPause
		s.CurrentStepIndex = ro.Status.CurrentStepIndex
		s.StableRS = ro.Status.StableRS
		s.PromoteFull = ro.Status.PromoteFull
	} else {
		p.progressDeadlineAbortWithEvent(&s)
		p.applyPauseWithEvents(&s)
		p.conditionsWithEvents(&s)
		p.pausedConditions(&s)
	}
	p.syncWorkloadGeneration(&s)
	s.Duration, p.plan.Finished = nextDuration(p.st.Rollout.Status, s, p.durationFacts(s))
	s.Phase, s.Message = Phase(ro.Spec, s)
	p.plan.Status = s
	p.requeueForDeadline(&s)
}

// progressDeadlineAbortWithEvent aborts an update that made no progress within the
// deadline when spec.progressDeadlineAbort asks for it.
func (p *planner) progressDeadlineAbortWithEvent(s *v1alpha1.RolloutStatus) {
	ro := p.ro
	if !ro.Spec.ProgressDeadlineAbort || p.pause.aborted(ro) || completed(s) || progressing(ro, s) ||
		p.steps.indefinite() || p.waitingForScaleDown() || !timedOut(ro, &ro.Status, p.now) {
		return
	}
	msg := p.timeoutMessage()
	p.pause.addAbort(msg)
	p.event(true, v1alpha1.EventRolloutAborted, msg)
}

func (p *planner) timeoutMessage() string {
	if p.revs.newRS != nil {
		return fmt.Sprintf(v1alpha1.MessageReplicaSetTimedOut, p.revs.newRS.Name)
	}
	return fmt.Sprintf(v1alpha1.MessageRolloutTimedOut, p.ro.Name)
}

// waitingForScaleDown tells whether an old ReplicaSet waits out a scale-down
// delay; the progress deadline does not run meanwhile.
func (p *planner) waitingForScaleDown() bool {
	for _, rs := range p.revs.others {
		if _, ok := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]; ok {
			return true
		}
	}
	return false
}

// conditionsWithEvents sets the Healthy, Progressing, Available,
// ReplicaFailure and Completed conditions, recording RolloutAborted when the
// Progressing condition turns to it.
func (p *planner) conditionsWithEvents(s *v1alpha1.RolloutStatus) {
	ro := p.ro
	paused := len(s.PauseConditions) > 0 || ro.Spec.Paused
	becameUnhealthy := false
	if !paused && healthy(ro, s) {
		setCondition(s, newCondition(p.now, v1alpha1.RolloutHealthy, corev1.ConditionTrue, v1alpha1.ReasonRolloutHealthy, v1alpha1.MessageRolloutHealthy))
	} else if condition(ro.Status, v1alpha1.RolloutHealthy) != nil {
		becameUnhealthy = setCondition(s, newCondition(p.now, v1alpha1.RolloutHealthy, corev1.ConditionFalse, v1alpha1.ReasonRolloutHealthy, v1alpha1.MessageRolloutNotHealthy))
	}
	if p.pause.aborted(ro) {
		p.abortedConditionWithEvent(s)
	} else {
		p.progressingCondition(s, becameUnhealthy)
	}

	available := sumAvailable(p.revs.all) >= specReplicas(ro)
	if ro.Spec.Strategy.BlueGreen != nil {
		available = p.saturated(p.byHash(s.BlueGreen.ActiveSelector))
	}
	if available {
		setCondition(s, newCondition(p.now, v1alpha1.RolloutAvailable, corev1.ConditionTrue, v1alpha1.ReasonAvailable, v1alpha1.MessageAvailable))
	} else {
		setCondition(s, newCondition(p.now, v1alpha1.RolloutAvailable, corev1.ConditionFalse, v1alpha1.ReasonAvailable, v1alpha1.MessageNotAvailable))
	}
	if failure := p.replicaFailure(); failure != nil {
		setCondition(s, *failure)
	} else {
		removeCondition(s, v1alpha1.RolloutReplicaFailure)
	}
	// RolloutNotCompleted is recorded when the update starts, first, as Argo
	// Rollouts does (see syncRevisionWithEvents).
	status := corev1.ConditionFalse
	if completed(s) {
		status = corev1.ConditionTrue
	}
	setCondition(s, newCondition(p.now, v1alpha1.RolloutCompleted, status, v1alpha1.ReasonRolloutCompleted, v1alpha1.ReasonRolloutCompleted))
}

// abortedConditionWithEvent sets Progressing=False RolloutAborted, naming
// the desired revision and why, and records the event when it changes.
func (p *planner) abortedConditionWithEvent(s *v1alpha1.RolloutStatus) {
	msg := fmt.Sprintf(v1alpha1.MessageRolloutAborted, revisionOf(p.revs.newRS.Annotations))
	if p.pause.abortMessage != "" {
		msg += ": " + p.pause.abortMessage
	}
	if setCondition(s, newCondition(p.now, v1alpha1.RolloutProgressing, corev1.ConditionFalse, v1alpha1.ReasonRolloutAborted, msg)) {
		p.event(true, v1alpha1.EventRolloutAborted, msg)
	}
}

// progressingCondition sets Progressing while not aborted: done when
// healthy, refreshed while pods move, timed out past the deadline.
func (p *planner) progressingCondition(s *v1alpha1.RolloutStatus, becameUnhealthy bool) {
	ro := p.ro
	rsName := ""
	if p.revs.newRS != nil {
		rsName = p.revs.newRS.Name
	}
	switch {
	case healthy(ro, s):
		setCondition(s, newCondition(p.now, v1alpha1.RolloutProgressing, corev1.ConditionTrue, v1alpha1.ReasonNewRSAvailable,
			fmt.Sprintf(v1alpha1.MessageReplicaSetCompleted, rsName)))
	case progressing(ro, s) || becameUnhealthy:
		reason, msg := v1alpha1.ReasonReplicaSetUpdated, fmt.Sprintf(v1alpha1.MessageReplicaSetProgress, rsName)
		if rsName == "" {
			msg = fmt.Sprintf(v1alpha1.MessageRolloutProgress, ro.Name)
		}
		if completed(s) && becameUnhealthy {
			reason, msg = v1alpha1.ReasonReplicaSetNotAvail, v1alpha1.MessageNotAvailable
		}
		c := newCondition(p.now, v1alpha1.RolloutProgressing, corev1.ConditionTrue, reason, msg)
		if old := condition(*s, v1alpha1.RolloutProgressing); old != nil && old.Status == corev1.ConditionTrue {
			c.LastTransitionTime = old.LastTransitionTime
		}
		// Progress always refreshes lastUpdateTime: the deadline counts from here.
		removeCondition(s, v1alpha1.RolloutProgressing)
		setCondition(s, c)
	case !p.steps.indefinite() && !p.waitingForScaleDown() && timedOut(ro, s, p.now):
		setCondition(s, newCondition(p.now, v1alpha1.RolloutProgressing, corev1.ConditionFalse, v1alpha1.ReasonProgressDeadline, p.timeoutMessage()))
	}
}

// pausedConditions keeps the Paused condition, and the Progressing condition's
// paused, resumed and retry reasons, in line with the pause state.
func (p *planner) pausedConditions(s *v1alpha1.RolloutStatus) {
	ro := p.ro
	paused := len(s.PauseConditions) > 0 || ro.Spec.Paused
	prog := condition(*s, v1alpha1.RolloutProgressing)
	abortedCond := prog != nil && prog.Reason == v1alpha1.ReasonRolloutAborted
	if abortedCond && !s.Abort {
		setCondition(s, newCondition(p.now, v1alpha1.RolloutProgressing, corev1.ConditionUnknown, v1alpha1.ReasonRolloutRetry, v1alpha1.MessageRolloutRetry))
		prog = condition(*s, v1alpha1.RolloutProgressing)
		abortedCond = false
	}
	if abortedCond {
		return
	}
	progPaused := prog != nil && prog.Reason == v1alpha1.ReasonRolloutPaused
	if paused && !progPaused && !completed(s) {
		setCondition(s, newCondition(p.now, v1alpha1.RolloutProgressing, corev1.ConditionUnknown, v1alpha1.ReasonRolloutPaused, v1alpha1.MessageRolloutPaused))
	} else if !paused && progPaused {
		setCondition(s, newCondition(p.now, v1alpha1.RolloutProgressing, corev1.ConditionUnknown, v1alpha1.ReasonRolloutResumed, v1alpha1.MessageRolloutResumed))
	}
	pc := condition(*s, v1alpha1.RolloutPaused)
	if pcTrue := pc != nil && pc.Status == corev1.ConditionTrue; paused != pcTrue {
		status := corev1.ConditionFalse
		if paused {
			status = corev1.ConditionTrue
		}
		setCondition(s, newCondition(p.now, v1alpha1.RolloutPaused, status, v1alpha1.ReasonRolloutPaused, v1alpha1.MessageRolloutPaused))
	}
}

// replicaFailure copies a ReplicaFailure condition from the desired
// ReplicaSet, or else from any other.
func (p *planner) replicaFailure() *v1alpha1.RolloutCondition {
	candidates := append([]*appsv1.ReplicaSet{p.revs.newRS}, p.revs.all...)
	for _, rs := range candidates {
		if rs == nil {
			continue
		}
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure {
				return &v1alpha1.RolloutCondition{
					Type: v1alpha1.RolloutReplicaFailure, Status: c.Status, Reason: c.Reason, Message: c.Message,
					LastUpdateTime: c.LastTransitionTime, LastTransitionTime: c.LastTransitionTime,
				}
			}
		}
	}
	return nil
}

// requeueForDeadline asks to be woken when the progress deadline would pass,
// so that a stuck update is reported (or aborted) on time without polling.
func (p *planner) requeueForDeadline(s *v1alpha1.RolloutStatus) {
	ro := p.ro
	c := condition(*s, v1alpha1.RolloutProgressing)
	if c == nil || c.Status != corev1.ConditionTrue || healthy(ro, s) || len(s.PauseConditions) > 0 ||
		ro.Spec.Paused || s.Abort || p.steps.indefinite() {
		return
	}
	p.plan.requeue(c.LastUpdateTime.Add(progressDeadline(ro)).Sub(p.now) + time.Second)
}

func formatSelector(ro *v1alpha1.Rollout) string {
	return metav1.FormatLabelSelector(ro.Spec.Selector)
}

package plan

import (
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// canary plans one reconcile of a canary Rollout.
func (p *planner) canary(conditions []v1alpha1.RolloutCondition) {
	base := carried{conditions: conditions}
	if p.templateOrStepsChanged() {
		// A new revision starts at step 0. This comes before the scaling
		// event: an edit of the template and spec.replicas together must not
		// carry the old revision's step index onto the new one.
		p.syncCanaryStatusWithEvents(base)
		return
	}
	if p.scalingEvent() {
		// spec.replicas changed: resize only, without moving through steps.
		p.scaleReplicaSets(p.ro.Status.Abort)
		p.finishStatus(p.carryStatus(base), false)
		return
	}
	waiting, restartedAt := p.restartPods()
	if waiting {
		// Wait for the evicted pods' replacements before anything else.
		p.plan.Status = *p.ro.Status.DeepCopy()
		return
	}
	analysis := p.canaryAnalysis()
	p.addRunWrites(analysis.writes)
	p.pause.merge(analysis.pause)
	experiment := p.canaryExperiment(p.pause.aborted(p.ro))
	p.addExperimentWrites(experiment)
	p.pause.merge(experiment.pause)
	// Decided once, then handed to every phase: the observed abort, or the
	// one this reconcile's analysis or experiment decided (traffic leaves
	// the canary in the same reconcile as the analysis fails).
	aborting := p.pause.aborted(p.ro)
	p.syncEphemeralMetadata()
	p.cleanupHistory()
	p.switchServices(aborting)
	extra := experimentWeights(p.steps.experimentStepInForce(), experiment.current)
	c := carried{conditions: conditions, runs: &analysis.runs, experiment: &experiment,
		weights: p.trafficRoutingWithEvents(aborting, extra), restartedAt: restartedAt}
	if len(analysis.pause.added) > 0 || len(experiment.pause.added) > 0 {
		// An inconclusive analysis or experiment pauses the rollout before
		// anything scales.
		p.syncCanaryStatusWithEvents(c)
		return
	}
	if !p.scaleReplicaSets(aborting) {
		p.pauseStep()
	}
	p.syncCanaryStatusWithEvents(c)
}

// scaleReplicaSets resizes the stable, then the canary, then the older
// ReplicaSets; it stops after the first group that changes, so each step
// waits for the pods of the one before. It reports whether any ReplicaSet
// was resized.
func (p *planner) scaleReplicaSets(aborting bool) (resized bool) {
	if p.halted() != "" {
		return false
	}
	revs := p.revs
	counts := p.desiredCounts(aborting)
	if p.ro.Spec.Strategy.Canary.TrafficRouting != nil {
		// A revision in use again loses a scale-down deadline it had.
		for _, rs := range []*appsv1.ReplicaSet{revs.stable, revs.newRS} {
			if rs != nil && !(rs == revs.newRS && rs != revs.stable && aborting) {
				p.clearScaleDownDeadline(p.revs.latest(rs))
			}
		}
	}
	if revs.stable != nil && revs.stable != revs.newRS {
		if p.scaleWithEvent(p.revs.latest(revs.stable), counts.stable) {
			return true
		}
	}
	if c := p.ro.Spec.Strategy.Canary; c.TrafficRouting != nil && aborting && revs.newRS != revs.stable {
		// Traffic has left the canary; keep its pods for the abort delay.
		resized = p.scaleDownAborted(c.AbortScaleDownDelaySeconds)
	} else if revs.newRS != nil && p.scaleWithEvent(p.revs.latest(revs.newRS), counts.canary) {
		p.scaleDownWorkload()
		return true
	}
	p.scaleDownWorkload()
	return p.scaleDownOthers() || resized
}

// desiredCounts are the sizes the canary and stable ReplicaSets should have.
func (p *planner) desiredCounts(aborting bool) canaryCounts {
	explicit, weight := canaryScaleOrWeight(p.ro, p.steps, aborting)
	if p.ro.Spec.Strategy.Canary.TrafficRouting != nil {
		return routedCanaryCounts(p.ro, explicit, weight, p.ro.Status.Canary.Weights, aborting)
	}
	return basicCanaryCounts(p.ro, weight, p.revs.newRS, p.revs.stable, p.revs.others)
}

// scaleDownOthers shrinks the ReplicaSets that are neither desired nor
// stable: first their unavailable pods, then available ones as far as the
// availability floor allows, newest first.
func (p *planner) scaleDownOthers() (resized bool) {
	if c := p.ro.Spec.Strategy.Canary; c.TrafficRouting != nil {
		return p.scaleDownOldRouted()
	}
	var active []*appsv1.ReplicaSet
	for _, rs := range p.revs.others {
		if rsReplicas(rs) > 0 {
			active = append(active, rs)
		}
	}
	if len(active) == 0 {
		return false
	}
	for _, rs := range active {
		if rsReplicas(rs) > rs.Status.AvailableReplicas {
			resized = p.scaleWithEvent(p.revs.latest(rs), rs.Status.AvailableReplicas) || resized
		}
	}
	_, unavailable := surgeAndUnavailable(p.ro)
	room := sumAvailable(p.revs.all) - (specReplicas(p.ro) - unavailable)
	if room <= 0 {
		return resized
	}
	byRevision := append([]*appsv1.ReplicaSet(nil), active...)
	sort.SliceStable(byRevision, func(i, j int) bool {
		return revisionOf(byRevision[i].Annotations) > revisionOf(byRevision[j].Annotations)
	})
	for _, rs := range byRevision {
		current := p.revs.latest(rs)
		if room <= 0 {
			break
		}
		if rsReplicas(current) == 0 {
			continue
		}
		to := max(0, rsReplicas(current)-room)
		room -= rsReplicas(current) - to
		resized = p.scaleWithEvent(current, to) || resized
	}
	return resized
}

// pauseStep adds the pause condition of a pause step when the rollout
// reaches it, and asks to be woken when a timed pause ends.
func (p *planner) pauseStep() {
	step := p.steps.current()
	if p.ro.Spec.Paused || p.ro.Status.PromoteFull || step == nil || step.Pause == nil {
		return
	}
	cond := pauseCondition(p.ro, v1alpha1.PauseReasonCanaryPauseStep)
	if cond == nil {
		if !p.ro.Status.ControllerPause {
			p.pause.add(v1alpha1.PauseReasonCanaryPauseStep)
			if step.Pause.Duration != nil {
				// From the start as stored: whole seconds (see applyPauseWithEvents).
				end := p.now.Truncate(time.Second).Add(time.Duration(step.Pause.DurationSeconds()) * time.Second)
				p.plan.requeue(end.Sub(p.now))
			}
		}
		return
	}
	if step.Pause.Duration != nil {
		if left := cond.StartTime.Add(time.Duration(step.Pause.DurationSeconds()) * time.Second).Sub(p.now); left > 0 {
			p.plan.requeue(left)
		}
	}
}

// stepCompleted tells whether the current step is done, given the
// AnalysisRuns and the Experiment in force.
func (p *planner) stepCompleted(c carried) bool {
	step := p.steps.current()
	if p.ro.Spec.Paused || step == nil {
		return false
	}
	switch {
	case step.Pause != nil:
		cond := pauseCondition(p.ro, v1alpha1.PauseReasonCanaryPauseStep)
		if p.ro.Status.ControllerPause && cond == nil {
			return true // the user resumed it
		}
		return step.Pause.Duration != nil && cond != nil &&
			p.now.After(cond.StartTime.Add(time.Duration(step.Pause.DurationSeconds())*time.Second))
	case step.SetWeight != nil:
		return p.atDesiredCounts(p.pause.aborted(p.ro)) && !p.weightUnverified
	case step.SetCanaryScale != nil:
		return p.atDesiredCounts(p.pause.aborted(p.ro))
	case step.SetHeaderRoute != nil, step.SetMirrorRoute != nil:
		return true
	case step.Analysis != nil:
		return stepAnalysisSucceeded(c.runs)
	case step.Experiment != nil:
		ex := c.experiment
		return ex != nil && ex.current != nil && ex.current.Status.Phase == v1alpha1.AnalysisPhaseSuccessful
	case step.Plugin != nil:
		return stepPluginDone(p.stepStatuses, p.steps.index, p.stepPluginUnreachable)
	}
	return false
}

// atDesiredCounts tells whether the pods have caught up with the step.
func (p *planner) atDesiredCounts(aborting bool) bool {
	c := p.ro.Spec.Strategy.Canary
	revs := p.revs
	want := p.desiredCounts(aborting)
	if !thresholdMet(c.ReplicaProgressThreshold, revs.newRS, want.canary) {
		return false
	}
	if c.TrafficRouting == nil || !c.DynamicStableScale {
		stable := revs.stable
		if stable == nil || rsReplicas(stable) != want.stable || stable.Status.Replicas != want.stable {
			return false
		}
	}
	return c.TrafficRouting != nil || sumAvailable(revs.others) == 0
}

// syncCanaryStatusWithEvents decides the step index, promotion and abort, then
// finishes the status.
func (p *planner) syncCanaryStatusWithEvents(c carried) {
	s := p.carryStatus(c)
	count := p.steps.count()
	var index *int32
	if count > 0 {
		i := p.steps.index
		index = &i
	}

	if p.templateOrStepsChanged() {
		p.startStepsWithEvents(&s, count)
		p.finishStatus(s, true)
		return
	}
	p.stepPluginsWithEvents(&s)

	if p.ro.Status.PromoteFull || p.rollbackWithinWindow() {
		p.pause.clearAll()
		p.pause.removeAbort()
		if count > 0 {
			index = int32Ptr(count)
		}
	}
	if reason := p.fullPromotionReason(index); reason != "" {
		p.promoteWithEvent(&s, reason)
		p.finishStatus(s, true)
		return
	}
	if p.pause.aborted(p.ro) {
		if count > 0 {
			if s.StableRS == s.CurrentPodHash {
				s.CurrentStepIndex = int32Ptr(count)
			} else {
				s.CurrentStepIndex = int32Ptr(0)
			}
		}
		p.finishStatus(s, true)
		return
	}
	if index != nil && *index == p.steps.index && p.stepCompleted(c) {
		step := p.steps.current()
		next := *index + 1
		index = &next
		s.Canary.CurrentStepAnalysisRunStatus = nil
		if step.Experiment != nil {
			s.Canary.CurrentExperiment = ""
		}
		p.event(false, v1alpha1.EventRolloutStepCompleted, fmt.Sprintf(v1alpha1.EventMessageStepCompleted, next, count, stepString(*step)))
		p.pause.remove(v1alpha1.PauseReasonCanaryPauseStep)
	}
	s.CurrentStepIndex = index
	p.finishStatus(s, true)
}

// startStepsWithEvents starts a new revision's steps over: from step 0, or
// past every step (with a SkipSteps event) for a rollback to the stable
// revision or within the rollback window. Pauses, aborts and the previous
// revision's analyses go, and a pending restart is done: a new revision's
// pods are all new.
func (p *planner) startStepsWithEvents(s *v1alpha1.RolloutStatus, count int32) {
	if p.ro.Spec.RestartAt != nil && !p.ro.Spec.RestartAt.Time.After(p.now) {
		s.RestartedAt = p.ro.Spec.RestartAt.DeepCopy()
	}
	p.pause.clearAll()
	p.pause.removeAbort()
	s.PromoteFull = false
	s.Canary.CurrentStepAnalysisRunStatus = nil
	s.Canary.CurrentBackgroundAnalysisRunStatus = nil
	s.Canary.StepPluginStatuses = nil
	s.CurrentStepIndex = nil
	if count == 0 {
		return
	}
	s.CurrentStepIndex = int32Ptr(0)
	switch {
	case s.StableRS == p.revs.hash:
		p.event(false, v1alpha1.EventSkipSteps, "Rollback to stable ReplicaSets")
		s.CurrentStepIndex = int32Ptr(count)
	case p.rollbackWithinWindow() && rsReplicas(p.revs.newRS) > 0:
		p.event(false, v1alpha1.EventSkipSteps, "Rollback to active ReplicaSets within RollbackWindow")
		s.CurrentStepIndex = int32Ptr(count)
	}
}

// fullPromotionReason says why the desired revision becomes stable now, or
// returns "" while it must not.
func (p *planner) fullPromotionReason(index *int32) string {
	revs := p.revs
	if revs.stable == nil {
		return "Initial deploy"
	}
	if p.pause.aborted(p.ro) {
		return ""
	}
	replicas := specReplicas(p.ro)
	c := p.ro.Spec.Strategy.Canary
	if revs.newRS == nil || (rsAvailable(revs.newRS) < replicas && !thresholdMet(c.ReplicaProgressThreshold, revs.newRS, replicas)) {
		return ""
	}
	if p.fullWeightUnverified {
		return "" // the routers have not confirmed the full weight yet
	}
	if p.ro.Status.PromoteFull {
		return "Full promotion requested"
	}
	if p.rollbackWithinWindow() {
		return "Rollback within window"
	}
	if p.ro.Status.StableRS == revs.hash {
		return "Fast rollback"
	}
	if count := p.steps.count(); count == 0 || (index != nil && *index == count) {
		return fmt.Sprintf("Completed all %d canary steps", count)
	}
	return ""
}

// scaleDownOldRouted scales down the canary's older revisions behind a
// traffic router: a stable revision replaced by a promotion waits out
// scaleDownDelaySeconds (so traffic still on it drains), an intermediate
// canary goes at once; nothing a Service or the recorded split still uses.
func (p *planner) scaleDownOldRouted() (resized bool) {
	if p.targetsUnverified() {
		return false // the load balancer may still send to the old pods
	}
	c := p.ro.Spec.Strategy.Canary
	s := p.ro.Status
	referenced := map[string]bool{s.StableRS: true, s.CurrentPodHash: true}
	if w := s.Canary.Weights; w != nil {
		referenced[w.Canary.PodTemplateHash] = true
		referenced[w.Stable.PodTemplateHash] = true
	}
	for _, name := range []string{c.StableService, c.CanaryService} {
		if svc, ok := p.st.Services[name]; ok {
			referenced[svc.Spec.Selector[v1alpha1.LabelPodTemplateHash]] = true
		}
	}
	delete(referenced, "")
	promoted := s.StableRS != "" && s.StableRS == s.CurrentPodHash
	return p.scaleDownWithDelay(c.ScaleDownDelaySeconds, c.ScaleDownDelayRevisionLimit, referenced, func(rs *appsv1.ReplicaSet) bool {
		_, waiting := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]
		return promoted || waiting
	})
}

package plan

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// blueGreen plans one reconcile of a blue-green Rollout: the new revision
// comes up behind the preview Service, and the active Service switches to it
// at once when it is fully available and promoted.
func (p *planner) blueGreen(conditions []v1alpha1.RolloutCondition) {
	base := carried{conditions: conditions}
	bg := p.ro.Spec.Strategy.BlueGreen
	active := p.st.Services[bg.ActiveService]
	preview := p.st.Services[bg.PreviewService]
	if p.templateOrStepsChanged() {
		// A new revision starts over (preview, pause, analysis) before any
		// scaling event is looked at, as for canaries.
		sel := selectors{preview: p.previewService(preview), active: selected(active)}
		p.syncBlueGreenStatus(sel, base)
		return
	}
	if p.scalingEvent() {
		p.blueGreenReplicaSets(p.ro.Status.Abort)
		p.finishStatus(p.blueGreenCounts(p.carryStatus(base)), false)
		return
	}
	// Decided once, then handed to every phase.
	aborting := p.pause.aborted(p.ro)
	var sel selectors
	sel.preview = p.previewService(preview)
	_, restartedAt := p.restartPods()
	p.blueGreenReplicaSets(aborting)
	pausing := p.blueGreenPause(active, aborting)
	sel.active = p.activeService(active, aborting, pausing)
	analysis := p.blueGreenAnalysis()
	p.addRunWrites(analysis.writes)
	p.pause.merge(analysis.pause)
	p.syncEphemeralMetadata()
	p.syncBlueGreenStatus(sel, carried{conditions: conditions, runs: &analysis.runs, restartedAt: restartedAt})
}

// selectors are the revision hashes the preview and active Services select
// once this reconcile's switches are made.
type selectors struct{ preview, active string }

// selected is the revision hash a Service selects now ("" for none).
func selected(svc *corev1.Service) string {
	if svc == nil {
		return ""
	}
	return svc.Spec.Selector[v1alpha1.LabelPodTemplateHash]
}

// previewService points the preview Service at the desired revision, and
// returns the revision it selects then.
func (p *planner) previewService(svc *corev1.Service) string {
	if svc == nil || p.halted() != "" {
		return selected(svc)
	}
	p.switchServiceWithEvent(svc, p.revs.hash)
	return p.revs.hash
}

// previewReplicas is how many pods the desired revision should run.
func (p *planner) previewReplicas() int32 {
	bg := p.ro.Spec.Strategy.BlueGreen
	want := specReplicas(p.ro)
	if bg.PreviewReplicaCount == nil {
		return want
	}
	s := p.ro.Status
	activeRS := p.byHash(s.BlueGreen.ActiveSelector)
	switch {
	case activeRS == nil || activeRS == p.revs.newRS, s.PromoteFull:
		return want
	case p.revs.hash != s.CurrentPodHash:
		return *bg.PreviewReplicaCount
	case !p.ro.Spec.Paused && len(s.PauseConditions) == 0 && s.BlueGreen.ScaleUpPreviewCheckPoint:
		return want
	}
	return *bg.PreviewReplicaCount
}

func (p *planner) byHash(hash string) *appsv1.ReplicaSet {
	if hash == "" {
		return nil
	}
	for _, rs := range p.revs.all {
		if rs.Labels[v1alpha1.LabelPodTemplateHash] == hash {
			return rs
		}
	}
	return nil
}

// readyForPause tells whether the desired revision runs all the pods it should.
func (p *planner) readyForPause() bool {
	rs := p.revs.newRS
	n := p.previewReplicas()
	return rsReplicas(rs) == n && rs.Status.AvailableReplicas == n
}

// saturated tells whether a ReplicaSet runs spec.replicas available pods and
// was sized for the current spec.replicas.
func (p *planner) saturated(rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	replicas := specReplicas(p.ro)
	desired, err := strconv.Atoi(rs.Annotations[v1alpha1.AnnotationDesiredReplicas])
	return err == nil && int32(desired) == replicas && rsReplicas(rs) == replicas && rs.Status.AvailableReplicas == replicas
}

// blueGreenReplicaSets keeps the stable revision at full size, sizes the
// desired one, and scales older ones down after their scale-down delay.
func (p *planner) blueGreenReplicaSets(aborted bool) {
	if p.halted() != "" {
		return
	}
	revs := p.revs
	for _, rs := range []*appsv1.ReplicaSet{revs.newRS, revs.stable} {
		if rs == nil || (rs == revs.newRS && aborted && rs != revs.stable) {
			continue
		}
		if rs == revs.newRS && p.rollbackToWaitingRevision() && p.ro.Status.BlueGreen.ActiveSelector != p.revs.hash {
			// A rollback to a revision still waiting to scale down keeps its
			// deadline until the active Service selects it: the deadline is
			// what lets it go live without a pause (rollbackToWaitingRevision).
			continue
		}
		p.clearScaleDownDeadline(p.revs.latest(rs))
	}
	if revs.stable != nil && revs.stable != revs.newRS {
		p.scaleWithEvent(p.revs.latest(revs.stable), specReplicas(p.ro))
	}
	if aborted && revs.newRS != revs.stable {
		p.scaleDownAborted(p.ro.Spec.Strategy.BlueGreen.AbortScaleDownDelaySeconds)
	} else {
		p.scaleWithEvent(p.revs.latest(revs.newRS), p.previewReplicas())
	}
	p.scaleDownWorkload()
	p.scaleDownOldBlueGreen()
	p.cleanupHistory()
}

// scaleDownOldBlueGreen scales down revisions that are neither desired nor
// stable nor selected by a Service, after scaleDownDelaySeconds, keeping at
// most scaleDownDelayRevisionLimit of them waiting.
func (p *planner) scaleDownOldBlueGreen() {
	bg := p.ro.Spec.Strategy.BlueGreen
	for _, c := range p.ro.Status.PauseConditions {
		if c.Reason == v1alpha1.PauseReasonInconclusiveAnalysis {
			return
		}
	}
	if post := p.runByStatus(p.ro.Status.BlueGreen.PostPromotionAnalysisRunStatus); bg.PostPromotionAnalysis != nil &&
		bg.ScaleDownDelaySeconds == nil && !p.skipPostPromotion(post) &&
		(post == nil || post.Status.Phase != v1alpha1.AnalysisPhaseSuccessful) {
		return // without a delay, the old revision waits for the post-promotion analysis
	}
	referenced := map[string]bool{
		p.ro.Status.BlueGreen.ActiveSelector:  true,
		p.ro.Status.BlueGreen.PreviewSelector: true,
		p.ro.Status.StableRS:                  true,
	}
	p.scaleDownWithDelay(bg.ScaleDownDelaySeconds, bg.ScaleDownDelayRevisionLimit, referenced, func(*appsv1.ReplicaSet) bool { return true })
}

// fastTracked tells whether the desired revision goes live without a pause:
// a rollback to the stable revision or to one still waiting out its
// scale-down delay, a full promotion, a first deploy, or a revision that is
// already active.
func (p *planner) fastTracked(active *corev1.Service) bool {
	if p.ro.Status.StableRS == p.revs.hash || p.rollbackWithinWindow() || p.ro.Status.PromoteFull || p.rollbackToWaitingRevision() {
		return true
	}
	current, ok := active.Spec.Selector[v1alpha1.LabelPodTemplateHash]
	return !ok || current == p.revs.hash
}

// blueGreenPause adds the BlueGreenPause condition before the switch when
// promotion is manual (autoPromotionEnabled: false) or delayed
// (autoPromotionSeconds), and removes it when the pause is over.
func (p *planner) blueGreenPause(active *corev1.Service, aborting bool) (pausing bool) {
	bg := p.ro.Spec.Strategy.BlueGreen
	if aborting || !p.readyForPause() || p.halted() != "" {
		return false
	}
	manual := bg.AutoPromotionEnabled != nil && !*bg.AutoPromotionEnabled
	if p.fastTracked(active) || p.ro.Status.BlueGreen.ScaleUpPreviewCheckPoint || (!manual && bg.AutoPromotionSeconds == 0) {
		p.pause.remove(v1alpha1.PauseReasonBlueGreenPause)
		return false
	}
	if !p.prePromotionPassed() {
		return false
	}
	cond := pauseCondition(p.ro, v1alpha1.PauseReasonBlueGreenPause)
	switch {
	case cond == nil && !p.ro.Status.ControllerPause:
		p.pause.add(v1alpha1.PauseReasonBlueGreenPause)
		if !manual {
			p.plan.requeue(time.Duration(bg.AutoPromotionSeconds) * time.Second)
		}
		return true
	case cond != nil && p.blueGreenPauseDone(false):
		p.pause.remove(v1alpha1.PauseReasonBlueGreenPause)
	case cond != nil && !manual:
		p.plan.requeue(cond.StartTime.Add(time.Duration(bg.AutoPromotionSeconds) * time.Second).Sub(p.now))
	}
	return false
}

// blueGreenPauseDone tells whether the pause before the switch is over;
// pausing says this reconcile has just paused.
func (p *planner) blueGreenPauseDone(pausing bool) bool {
	bg := p.ro.Spec.Strategy.BlueGreen
	cond := pauseCondition(p.ro, v1alpha1.PauseReasonBlueGreenPause)
	switch {
	case pausing:
		return false
	case p.ro.Status.BlueGreen.ScaleUpPreviewCheckPoint:
		return true
	case bg.AutoPromotionEnabled == nil || *bg.AutoPromotionEnabled:
		if bg.AutoPromotionSeconds == 0 {
			return true
		}
		return cond != nil && p.now.After(cond.StartTime.Add(time.Duration(bg.AutoPromotionSeconds)*time.Second))
	}
	return p.ro.Status.ControllerPause && cond == nil
}

// activeService switches the active Service to the desired revision once it
// is fully available and promoted, and back to the stable one on abort. It
// never points at a revision that is not fully available.
//
// It returns the revision the active Service selects then.
func (p *planner) activeService(active *corev1.Service, aborting, pausing bool) string {
	if p.halted() != "" {
		return selected(active)
	}
	newRS := p.revs.latest(p.revs.newRS)
	if aborting {
		if p.ro.Status.StableRS != "" {
			p.switchServiceWithEvent(active, p.ro.Status.StableRS)
			return p.ro.Status.StableRS
		}
		return selected(active)
	}
	if !p.readyForPause() || !p.saturated(newRS) {
		return selected(active)
	}
	if p.fastTracked(active) || (p.blueGreenPauseDone(pausing) && p.prePromotionPassed()) {
		p.switchServiceWithEvent(active, p.revs.hash)
		return p.revs.hash
	}
	return selected(active)
}

// syncBlueGreenStatus decides promotion and finishes the status.
func (p *planner) syncBlueGreenStatus(sel selectors, c carried) {
	s := p.carryStatus(c)
	s.CurrentStepIndex = nil
	s.BlueGreen.ScaleUpPreviewCheckPoint = p.ro.Status.BlueGreen.ScaleUpPreviewCheckPoint
	if p.templateOrStepsChanged() {
		p.pause.clearAll()
		p.pause.removeAbort()
		s.PromoteFull = false
		s.BlueGreen.ScaleUpPreviewCheckPoint = false
		s.BlueGreen.PrePromotionAnalysisRunStatus = nil
		s.BlueGreen.PostPromotionAnalysisRunStatus = nil
	}
	if p.ro.Status.PromoteFull || p.rollbackWithinWindow() {
		p.pause.clearAll()
		p.pause.removeAbort()
	}
	s.BlueGreen.PreviewSelector = sel.preview
	s.BlueGreen.ActiveSelector = sel.active
	if reason := p.blueGreenPromotionReason(&s, c.runs); reason != "" {
		p.promoteWithEvent(&s, reason)
		s.BlueGreen.ScaleUpPreviewCheckPoint = false
		s.CurrentStepIndex = nil
	} else {
		s.BlueGreen.ScaleUpPreviewCheckPoint = p.scaleUpPreviewCheckPoint()
	}
	p.finishStatus(p.blueGreenCounts(s), true)
}

// blueGreenCounts reports the active revision's pods, as the scale
// subresource (and so an HPA) must see them.
func (p *planner) blueGreenCounts(s v1alpha1.RolloutStatus) v1alpha1.RolloutStatus {
	if activeRS := p.byHash(s.BlueGreen.ActiveSelector); activeRS != nil {
		s.HPAReplicas = activeRS.Status.Replicas
		s.Selector = metav1.FormatLabelSelector(activeRS.Spec.Selector)
		s.AvailableReplicas = activeRS.Status.AvailableReplicas
		s.ReadyReplicas = activeRS.Status.ReadyReplicas
	}
	return s
}

// rollbackToWaitingRevision tells whether the desired revision is one made
// before the stable revision and still running out its scale-down delay:
// Argo Rollouts switches back to it without a pause. Its deadline stays
// until the active Service selects it (blueGreenReplicaSets).
func (p *planner) rollbackToWaitingRevision() bool {
	newRS, stable := p.revs.newRS, p.revs.stable
	if newRS == nil || stable == nil || newRS == stable || !newRS.CreationTimestamp.Before(&stable.CreationTimestamp) {
		return false // not an earlier revision: a new one, or a retry after an abort
	}
	_, waiting := newRS.Annotations[v1alpha1.AnnotationScaleDownDeadline]
	return waiting
}

func (p *planner) blueGreenPromotionReason(s *v1alpha1.RolloutStatus, runs *currentRuns) string {
	switch {
	case p.revs.stable == nil, s.BlueGreen.ActiveSelector == "":
		return "Initial deploy"
	case s.BlueGreen.ActiveSelector != s.CurrentPodHash, p.activeSwitchUnchecked(s), p.targetsUnverified():
		return ""
	case p.ro.Status.PromoteFull:
		return "Full promotion requested"
	case p.rollbackWithinWindow():
		return "Rollback within window"
	case p.ro.Status.StableRS == p.revs.hash, p.rollbackToWaitingRevision():
		return "Fast rollback"
	case p.pause.aborted(p.ro):
		return ""
	case p.ro.Spec.Strategy.BlueGreen.PostPromotionAnalysis != nil &&
		(runs == nil || runs.post == nil || runs.post.Status.Phase != v1alpha1.AnalysisPhaseSuccessful):
		return ""
	}
	return "Completed blue-green update"
}

// scaleUpPreviewCheckPoint records that a preview of previewReplicaCount pods
// passed its pause and may now grow to full size before the switch.
func (p *planner) scaleUpPreviewCheckPoint() bool {
	bg := p.ro.Spec.Strategy.BlueGreen
	if bg.PreviewReplicaCount == nil {
		return false
	}
	if p.ro.Status.BlueGreen.ScaleUpPreviewCheckPoint {
		return true
	}
	return p.prePromotionPassed() && p.blueGreenPauseDone(len(p.pause.added) > 0) && *bg.PreviewReplicaCount == rsAvailable(p.revs.newRS)
}

package plan

import (
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// prePromotionPassed tells whether the pre-promotion analysis (if any) of
// the desired revision succeeded.
func (p *planner) prePromotionPassed() bool {
	if p.ro.Spec.Strategy.BlueGreen.PrePromotionAnalysis == nil {
		return true
	}
	r := p.runByStatus(p.ro.Status.BlueGreen.PrePromotionAnalysisRunStatus)
	return r != nil && r.Status.Phase == v1alpha1.AnalysisPhaseSuccessful
}

// skipPrePromotion tells whether no pre-promotion analysis is due: the
// revision is stable or already active, nothing is active yet, or (before a
// run exists) the preview is not fully up.
func (p *planner) skipPrePromotion(current *v1alpha1.AnalysisRun) bool {
	s := p.ro.Status
	active := s.BlueGreen.ActiveSelector
	if s.StableRS == p.revs.hash || active == "" || active == p.revs.hash {
		return true
	}
	if current != nil {
		return false
	}
	if n := p.ro.Spec.Strategy.BlueGreen.PreviewReplicaCount; n != nil {
		return rsReplicas(p.revs.newRS) != *n || rsAvailable(p.revs.newRS) != *n
	}
	return !p.saturated(p.revs.newRS)
}

// skipPostPromotion tells whether no post-promotion analysis is due: the
// revision is stable or not active yet, or (before a run exists) not fully
// up, or not yet registered in the load balancer's target groups.
func (p *planner) skipPostPromotion(current *v1alpha1.AnalysisRun) bool {
	s := p.ro.Status
	if s.StableRS == p.revs.hash || s.BlueGreen.ActiveSelector != p.revs.hash {
		return true
	}
	return current == nil && (!p.saturated(p.revs.newRS) || p.targetsUnverified())
}

// blueGreenAnalysis starts, watches and stops the pre- and post-promotion
// analyses.
func (p *planner) blueGreenAnalysis() analysisDecision {
	ro := p.ro
	s := ro.Status
	bg := ro.Spec.Strategy.BlueGreen
	pre := p.runByStatus(s.BlueGreen.PrePromotionAnalysisRunStatus)
	post := p.runByStatus(s.BlueGreen.PostPromotionAnalysisRunStatus)
	promoted := s.StableRS != "" && s.StableRS == s.CurrentPodHash
	if promoted || p.pause.aborted(ro) || s.PromoteFull || s.StableRS == p.revs.hash || p.rollbackWithinWindow() || s.StableRS == "" {
		d := analysisDecision{runs: currentRuns{pre: pre, post: post}}
		d.writes.stop(pre)
		d.writes.stop(post)
		p.retireOtherRuns(&d)
		return d
	}
	inconclusive := pauseCondition(ro, v1alpha1.PauseReasonInconclusiveAnalysis) != nil
	var d analysisDecision
	d.runs.pre = p.promotionRun(&d, bg.PrePromotionAnalysis, pre, p.skipPrePromotion(pre), inconclusive,
		AnalysisPrePromotion, v1alpha1.RolloutTypePrePromotion, "Blue/green pre-promotion analysis")
	d.runs.post = p.promotionRun(&d, bg.PostPromotionAnalysis, post, p.skipPostPromotion(post), inconclusive,
		AnalysisPostPromotion, v1alpha1.RolloutTypePostPromotion, "Blue/green post-promotion analysis")
	p.retireOtherRuns(&d)
	return d
}

func (p *planner) promotionRun(d *analysisDecision, a *v1alpha1.RolloutAnalysis, current *v1alpha1.AnalysisRun, skip, inconclusive bool, key, rolloutType, what string) *v1alpha1.AnalysisRun {
	switch {
	case a == nil || len(a.Templates) == 0:
		d.writes.stop(current)
		return nil
	case skip:
		d.writes.stop(current)
		return current
	case inconclusive:
		return current
	case p.needsNewRun(current):
		return p.startRun(d, key, rolloutType, key, nil)
	}
	react(d, current, what)
	return current
}

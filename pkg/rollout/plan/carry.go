package plan

// The status carried over from one reconcile to the next, shared by canary
// and blue-green.
import "github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"

// carryStatus starts the new status: counts from the ReplicaSets, and the
// fields that live across reconciles copied from the observed status. Pause
// and abort fields are decided later, in finishStatus.
func (p *planner) carryStatus() v1alpha1.RolloutStatus {
	old := p.ro.Status
	all := p.revs.all
	s := v1alpha1.RolloutStatus{
		CurrentPodHash:    p.revs.hash,
		CurrentStepHash:   StepHash(p.ro),
		Replicas:          sumActual(all),
		ReadyReplicas:     sumReady(all),
		AvailableReplicas: sumAvailable(all),
		HPAReplicas:       sumActual(all),
		CollisionCount:    old.CollisionCount,
		CurrentStepIndex:  old.CurrentStepIndex,
		Conditions:        p.status.Conditions,
		StableRS:          old.StableRS,
		RestartedAt:       old.RestartedAt,
		ALB:               old.ALB,
		ALBs:              old.ALBs,
		Duration:          old.Duration,
	}
	removeCondition(&s, v1alpha1.InvalidSpec)
	if p.revs.newRS != nil {
		s.UpdatedReplicas = p.revs.newRS.Status.Replicas
	}
	if p.ro.Spec.Selector != nil {
		s.Selector = formatSelector(p.ro)
	}
	if p.restartedAt != nil {
		s.RestartedAt = p.restartedAt
	}
	s.PromoteFull = s.CurrentPodHash != s.StableRS && old.PromoteFull
	s.Canary.Weights = old.Canary.Weights
	if p.weights != nil {
		s.Canary.Weights = p.weights
	}
	if c := p.ro.Spec.Strategy.Canary; c == nil || c.TrafficRouting == nil {
		s.Canary.Weights = nil
	}
	s.Canary.StablePingPong = old.Canary.StablePingPong
	s.Canary.StepPluginStatuses = old.Canary.StepPluginStatuses
	s.Canary.CurrentStepAnalysisRunStatus = old.Canary.CurrentStepAnalysisRunStatus
	s.Canary.CurrentBackgroundAnalysisRunStatus = old.Canary.CurrentBackgroundAnalysisRunStatus
	s.BlueGreen.PrePromotionAnalysisRunStatus = old.BlueGreen.PrePromotionAnalysisRunStatus
	s.BlueGreen.PostPromotionAnalysisRunStatus = old.BlueGreen.PostPromotionAnalysisRunStatus
	if p.analyzed {
		s.Canary.CurrentStepAnalysisRunStatus = runStatus(p.runs.step)
		s.Canary.CurrentBackgroundAnalysisRunStatus = runStatus(p.runs.background)
		s.BlueGreen.PrePromotionAnalysisRunStatus = runStatus(p.runs.pre)
		s.BlueGreen.PostPromotionAnalysisRunStatus = runStatus(p.runs.post)
		p.analysisEvents()
	}
	s.Canary.CurrentExperiment = old.Canary.CurrentExperiment
	return s
}

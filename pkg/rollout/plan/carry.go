package plan

// The status carried over from one reconcile to the next, shared by canary
// and blue-green.
import (
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// carried is what the phases of one reconcile decided that the status
// records. Each phase returns its part; the strategy hands them on here.
type carried struct {
	// conditions are the observed conditions with those syncRevision set.
	conditions []v1alpha1.RolloutCondition
	// runs are the AnalysisRuns in force; nil when this reconcile did not
	// reconcile the analyses (the observed run statuses are kept).
	runs *currentRuns
	// experiment is what reconciling the experiment step decided; nil when
	// this reconcile did not (the observed current experiment is kept).
	experiment *experimentDecision
	// weights is the split the routers were told to carry, if any.
	weights *v1alpha1.TrafficWeights
	// restartedAt is set once every pod is newer than spec.restartAt.
	restartedAt *metav1.Time
}

// carryStatus starts the new status: counts from the ReplicaSets, the
// fields that live across reconciles copied from the observed status, and
// what this reconcile's phases decided (c). Pause and abort fields are
// decided later, in finishStatus.
func (p *planner) carryStatus(c carried) v1alpha1.RolloutStatus {
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
		Conditions:        c.conditions,
		StableRS:          old.StableRS,
		RestartedAt:       old.RestartedAt,
		Duration:          old.Duration,
	}
	removeCondition(&s, v1alpha1.InvalidSpec)
	if p.revs.newRS != nil {
		s.UpdatedReplicas = p.revs.newRS.Status.Replicas
	}
	if p.ro.Spec.Selector != nil {
		s.Selector = formatSelector(p.ro)
	}
	if c.restartedAt != nil {
		s.RestartedAt = c.restartedAt
	}
	s.PromoteFull = s.CurrentPodHash != s.StableRS && old.PromoteFull
	s.Canary.Weights = old.Canary.Weights
	if c.weights != nil {
		s.Canary.Weights = c.weights
	}
	if c := p.ro.Spec.Strategy.Canary; c == nil || c.TrafficRouting == nil {
		s.Canary.Weights = nil
	}
	s.Canary.StablePingPong = old.Canary.StablePingPong
	s.ALB, s.ALBs = old.ALB, old.ALBs
	if p.alb != nil {
		s.ALB, s.ALBs = p.alb.ALB, p.alb.ALBs
	}
	s.Canary.StepPluginStatuses = old.Canary.StepPluginStatuses
	p.carryGates(&s, c)
	return s
}

// carryGates records the AnalysisRuns and the Experiment in force: those
// this reconcile decided, or else the observed ones.
func (p *planner) carryGates(s *v1alpha1.RolloutStatus, c carried) {
	old := p.ro.Status
	s.Canary.CurrentStepAnalysisRunStatus = old.Canary.CurrentStepAnalysisRunStatus
	s.Canary.CurrentBackgroundAnalysisRunStatus = old.Canary.CurrentBackgroundAnalysisRunStatus
	s.BlueGreen.PrePromotionAnalysisRunStatus = old.BlueGreen.PrePromotionAnalysisRunStatus
	s.BlueGreen.PostPromotionAnalysisRunStatus = old.BlueGreen.PostPromotionAnalysisRunStatus
	if r := c.runs; r != nil {
		s.Canary.CurrentStepAnalysisRunStatus = runStatus(r.step)
		s.Canary.CurrentBackgroundAnalysisRunStatus = runStatus(r.background)
		s.BlueGreen.PrePromotionAnalysisRunStatus = runStatus(r.pre)
		s.BlueGreen.PostPromotionAnalysisRunStatus = runStatus(r.post)
		p.recordAnalysisEvents(*r)
	}
	s.Canary.CurrentExperiment = old.Canary.CurrentExperiment
	if e := c.experiment; e != nil {
		s.Canary.CurrentExperiment = ""
		if e.current != nil {
			s.Canary.CurrentExperiment = e.current.Name
		}
	}
}

package plan

import (
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// ALBVerification is what the reconciler learned from ELBv2 for a Rollout
// on ALB while --aws-verify-target-group is on.
type ALBVerification struct {
	// Observations are ELBv2's answers to the ALB router's Lookups, in
	// order. The reconciler stops asking at the first error.
	Observations []alb.Observation
	// RetryInterval is when to look again at a weight not yet verified.
	RetryInterval time.Duration
}

// verifyALBWithEvents records whether the load balancer carries the split
// the routers were told to carry (status.canary.weights.verified, with a
// plugin router's verdict, and status.alb), and looks again after the retry
// interval while it does not: a setWeight step does not complete and, at
// the full weight, the Rollout is not promoted. Without verification,
// status.alb and status.albs are cleared.
func (p *planner) verifyALBWithEvents(d trafficrouting.Desired, weights *v1alpha1.TrafficWeights) {
	if alb.Config(p.ro) == nil || weights == nil {
		return
	}
	v := p.st.ALB
	if v == nil {
		p.alb = &alb.Result{}
		return
	}
	res := alb.Verify(p.ro, d, v.Observations)
	p.alb = &res
	p.plan.Events = append(p.plan.Events, res.Events...)
	switch {
	case res.Verified == nil:
		return
	case *res.Verified:
		if weights.Verified == nil {
			weights.Verified = res.Verified
		}
		return
	}
	weights.Verified = res.Verified
	p.weightUnverified = true
	p.fullWeightUnverified = d.CanaryWeight == d.MaxWeight
	p.plan.requeue(p.retryInterval(v.RetryInterval))
}

// retryInterval is the first positive of the interval given, the State's,
// and DefaultVerifyRetryInterval.
func (p *planner) retryInterval(given time.Duration) time.Duration {
	for _, d := range []time.Duration{given, p.st.VerifyRetryInterval} {
		if d > 0 {
			return d
		}
	}
	return DefaultVerifyRetryInterval
}

// TargetVerification is what the reconciler learned from ELBv2 about the
// registration of a Service's pods (see alb.TargetsService) while
// --aws-verify-target-group is on; without Observations there was nothing
// to check this time.
type TargetVerification struct {
	Observations  []alb.TargetsObservation
	RetryInterval time.Duration
}

// targetVerdict is the registration check, made once per reconcile.
type targetVerdict struct {
	checked    bool
	unverified bool
}

// targetsUnverified tells whether the load balancer does not know every pod
// of the Service just switched yet: the old pods stay (canary) and the
// Rollout is not promoted (blue-green) until it does. The first call
// records the events and the retry.
func (p *planner) targetsUnverified() bool {
	if p.targets.checked {
		return p.targets.unverified
	}
	p.targets.checked = true
	v := p.st.Targets
	if v == nil {
		return false
	}
	ok, events := alb.VerifyTargets(v.Observations)
	p.plan.Events = append(p.plan.Events, events...)
	p.targets.unverified = ok != nil && !*ok
	if p.targets.unverified {
		p.plan.requeue(p.retryInterval(v.RetryInterval))
	}
	return p.targets.unverified
}

// activeSwitchUnchecked tells whether, with registration checks on, the
// active Service is switched to the new pods in this very reconcile: its
// registration is checked on the next one, so promotion waits for it.
func (p *planner) activeSwitchUnchecked(s *v1alpha1.RolloutStatus) bool {
	if p.st.Targets == nil {
		return false
	}
	svc := p.st.Services[p.ro.Spec.Strategy.BlueGreen.ActiveService]
	return svc == nil || svc.Spec.Selector[v1alpha1.LabelPodTemplateHash] != s.BlueGreen.ActiveSelector
}

package plan

import (
	"fmt"
	"slices"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// DefaultVerifyRetryInterval is how soon a Rollout whose weight a router
// has not verified yet is looked at again, as in Argo Rollouts.
const DefaultVerifyRetryInterval = 10 * time.Second

// Verification is a traffic-router plugin's answer to VerifyWeight, asked
// before planning for the split WeightToVerify names.
type Verification struct {
	// Weight and Additional are the split the plugin was asked about.
	Weight     int32
	Additional []v1alpha1.WeightDestination
	// Verified is the answer: nil when the plugin cannot tell.
	Verified *bool
	// Err is why the plugin could not answer.
	Err error
}

// WeightToVerify is the split to ask traffic-router plugins to verify
// before planning: the one recorded in the observed status (the plugins
// were told to carry it), 0 when none is recorded.
func WeightToVerify(ro *v1alpha1.Rollout) (int32, []v1alpha1.WeightDestination) {
	if w := ro.Status.Canary.Weights; w != nil {
		return w.Canary.Weight, w.Additional
	}
	return 0, nil
}

// planPluginCalls plans, while the split is held, the calls plugin routers
// still get: the removal of managed routes.
func (p *planner) planPluginCalls(d trafficrouting.Desired) {
	for _, r := range p.st.Routers {
		if _, ok := r.(trafficrouting.PluginRouter); !ok {
			continue
		}
		writes, err := r.Plan(p.ro, p.st.RouterObjects, d)
		if err != nil {
			p.event(true, v1alpha1.EventTrafficRoutingError, err.Error())
			return
		}
		p.plan.RouterWrites = append(p.plan.RouterWrites, writes.InOrder(p.st.RouterObjects)...)
	}
}

// verified combines the plugin routers' verification of the split d: false
// when one has not verified it (the plugin said so, or the split changes
// in this reconcile and the plugin is one that verifies), then true when one
// verified it, nil when none can tell (a plugin not asked cannot). While it is
// false the rollout is looked at again after the retry interval.
func (p *planner) verified(d trafficrouting.Desired) *bool {
	var out *bool
	for _, r := range p.st.Routers {
		pr, ok := r.(trafficrouting.PluginRouter)
		if !ok {
			continue
		}
		v, asked := p.st.Verifications[pr.Plugin()]
		if !asked {
			continue // cannot tell
		}
		if v.Err != nil {
			p.event(true, v1alpha1.EventWeightVerifyError, fmt.Sprintf("Failed to verify weight: %s", v.Err))
			continue
		}
		answer := v.Verified
		sameSplit := v.Weight == d.CanaryWeight && slices.Equal(v.Additional, d.Additional)
		if !sameSplit && v.Verified != nil {
			// Told a new split in this reconcile: not verified yet.
			answer = boolPtr(false)
		}
		switch {
		case answer == nil:
		case !*answer:
			out = answer
		case out == nil:
			out = answer
		}
	}
	if out != nil && !*out {
		retry := p.st.VerifyRetryInterval
		if retry <= 0 {
			retry = DefaultVerifyRetryInterval
		}
		p.plan.requeue(retry)
		p.weightUnverified = true
		p.fullWeightUnverified = d.CanaryWeight == d.MaxWeight
	}
	return out
}

func boolPtr(b bool) *bool { return &b }

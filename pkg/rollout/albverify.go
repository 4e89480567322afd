package rollout

import (
	"context"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// ELB answers the ALB verification's questions (pkg/awselb asks AWS).
type ELB interface {
	FindLoadBalancer(ctx context.Context, dnsName string) (*alb.LoadBalancer, error)
	TargetGroups(ctx context.Context, loadBalancerARN string) ([]alb.TargetGroup, error)
	RegisteredTargets(ctx context.Context, targetGroupARN string) ([]string, error)
}

// elbTimeout bounds the ELBv2 calls of one reconcile.
const elbTimeout = 30 * time.Second

// observeALB asks ELBv2 about the load balancers of a Rollout on ALB, when
// verification is on (Options.ELB) and the router says where to look. It
// stops at the first error, which the plan reports.
func (r *Reconciler) observeALB(ctx context.Context, ro *v1alpha1.Rollout, st *plan.State) {
	if r.o.ELB == nil || alb.Config(ro) == nil {
		return
	}
	st.ALB = &plan.ALBVerification{RetryInterval: r.o.VerifyRetryInterval}
	var router *alb.Router
	for _, rt := range st.Routers {
		if a, ok := rt.(*alb.Router); ok {
			router = a
		}
	}
	if router == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, elbTimeout)
	defer cancel()
	for _, l := range router.Lookups(ro, st.RouterObjects) {
		o := alb.Observation{Lookup: l}
		o.LoadBalancer, o.Err = r.o.ELB.FindLoadBalancer(ctx, l.Hostname)
		if o.Err == nil && o.LoadBalancer != nil {
			o.TargetGroups, o.Err = r.o.ELB.TargetGroups(ctx, o.LoadBalancer.ARN)
		}
		st.ALB.Observations = append(st.ALB.Observations, o)
		if o.Err != nil || o.LoadBalancer == nil {
			return
		}
	}
}

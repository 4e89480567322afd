package rollout

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// callRouterPlugin makes one call the plan ordered. Its failure is recorded
// as a TrafficRoutingError event on the Rollout and ends the apply.
func (r *Reconciler) callRouterPlugin(ctx context.Context, ro *v1alpha1.Rollout, c trafficrouting.Call) error {
	err := fmt.Errorf("traffic router plugin %s is not available", c.Plugin)
	if r.o.RouterPlugins != nil {
		err = r.o.RouterPlugins.Call(ctx, ro, c)
	}
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("%s: %v", c, err)
	r.o.Recorder.Event(ro, corev1.EventTypeWarning, v1alpha1.EventTrafficRoutingError, msg)
	return fmt.Errorf("traffic router plugin call %s", msg)
}

// verifyWeights asks each traffic-router plugin of the Rollout whether the
// split recorded in its status is in force, for the plan to decide on.
func (r *Reconciler) verifyWeights(ctx context.Context, st *plan.State) {
	st.VerifyRetryInterval = r.o.VerifyRetryInterval
	if r.o.RouterPlugins == nil {
		return
	}
	weight, extra := plan.WeightToVerify(st.Rollout)
	for _, router := range st.Routers {
		pr, ok := router.(trafficrouting.PluginRouter)
		if !ok {
			continue
		}
		verified, err := r.o.RouterPlugins.VerifyWeight(ctx, st.Rollout, pr.Plugin(), weight, extra)
		if st.Verifications == nil {
			st.Verifications = map[string]plan.Verification{}
		}
		st.Verifications[pr.Plugin()] = plan.Verification{Weight: weight, Additional: extra, Verified: verified, Err: err}
		answer := "cannot tell"
		if verified != nil {
			answer = fmt.Sprint(*verified)
		}
		klog.FromContext(ctx).V(4).Info("Verified weight", "rollout", klog.KObj(st.Rollout), "plugin", pr.Plugin(), "weight", weight, "verified", answer, "err", err)
	}
}

package rollout

import (
	"context"
	"errors"

	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
)

// StepPlugins makes the step plugin calls the plan decided on. The
// controller's main package implements it with Serin's built-in plugins and
// the plugin processes. Every call is bounded by a deadline, and no lock is
// held across one.
type StepPlugins interface {
	// Call makes the call and returns its answer: Unavailable when the
	// plugin could not be reached at all, Disabled when it is configured
	// as disabled, Err when the call failed.
	Call(ctx context.Context, ro *v1alpha1.Rollout, c plan.StepPluginCall) plan.StepPluginAnswer
}

var errNoStepPlugins = errors.New("step plugins are not available in this controller")

// callStepPlugins makes the calls plan.StepPluginCalls decides on, one
// after the other, and puts their answers in the state.
func (r *Reconciler) callStepPlugins(ctx context.Context, st *plan.State) {
	for _, c := range plan.StepPluginCalls(*st) {
		a := plan.StepPluginAnswer{StepPluginCall: c, Unavailable: errNoStepPlugins}
		if r.o.StepPlugins != nil {
			a = r.o.StepPlugins.Call(ctx, st.Rollout, c)
			a.StepPluginCall = c
		}
		klog.FromContext(ctx).V(2).Info("Called step plugin", "rollout", klog.KObj(st.Rollout), "plugin", c.Name,
			"step", c.Index, "operation", c.Operation, "phase", a.Phase, "err", a.Err, "unavailable", a.Unavailable)
		st.StepPluginAnswers = append(st.StepPluginAnswers, a)
	}
}

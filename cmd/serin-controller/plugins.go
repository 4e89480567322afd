package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/builtin"
	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/host"
	"github.com/serin-dev/serin/pkg/plugin/wire"
	"github.com/serin-dev/serin/pkg/rollout"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/gatewayapi"
)

// plugins resolves traffic-router and step plugins by name: Serin's
// built-in ones first, then the binaries of argo-rollouts-config, which the
// host runs (each call under its deadline).
type plugins struct {
	host    *host.Host
	builtin builtin.Set
}

// routerPlugins and stepPlugins are the reconciler's view of plugins.
type (
	routerPlugins struct{ plugins }
	stepPlugins   struct{ plugins }
)

var (
	_ trafficrouting.Plugins = routerPlugins{}
	_ rollout.StepPlugins    = stepPlugins{}
)

// routerConfigured tells whether a traffic-router plugin of this name
// exists, built in or configured (its binary may still be broken: its
// calls then fail with the reason).
func (p plugins) routerConfigured(name string) bool {
	if _, ok := p.builtin.Router(name); ok {
		return true
	}
	_, ok := p.host.Lookup(config.KindTrafficRouter, name)
	return ok
}

func (p plugins) router(name string) builtin.Router {
	if r, ok := p.builtin.Router(name); ok {
		return r
	}
	return wire.RouterClient{C: p.host.Plugin(config.KindTrafficRouter, name)}
}

// Call makes one traffic-router plugin call.
func (p routerPlugins) Call(ctx context.Context, ro *v1alpha1.Rollout, c trafficrouting.Call) error {
	r := p.router(c.Plugin)
	ro = ro.DeepCopy()
	switch c.Method {
	case trafficrouting.RemoveManagedRoutes:
		return r.RemoveManagedRoutes(ctx, ro)
	case trafficrouting.SetHeaderRoute:
		return r.SetHeaderRoute(ctx, ro, c.HeaderRoute)
	case trafficrouting.SetMirrorRoute:
		return r.SetMirrorRoute(ctx, ro, c.MirrorRoute)
	case trafficrouting.UpdateHash:
		return r.UpdateHash(ctx, ro, c.CanaryHash, c.StableHash, c.Additional)
	case trafficrouting.SetWeight:
		return r.SetWeight(ctx, ro, c.Weight, c.Additional)
	}
	return fmt.Errorf("unknown traffic router plugin method %q", c.Method)
}

// VerifyWeight asks the plugin whether the split is in force.
func (p routerPlugins) VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, plugin string, weight int32, extra []v1alpha1.WeightDestination) (*bool, error) {
	return p.router(plugin).VerifyWeight(ctx, ro.DeepCopy(), weight, extra)
}

// step resolves a step plugin: built in, or configured (nil and disabled
// for a plugin configured as disabled), or an error saying why it cannot
// be reached.
func (p plugins) step(name string) (builtin.Step, bool, error) {
	if s, ok := p.builtin.Step(name); ok {
		return s, false, nil
	}
	b, ok := p.host.Lookup(config.KindStep, name)
	switch {
	case !ok:
		return nil, false, fmt.Errorf("step plugin %s is not configured in the stepPlugins of the %s ConfigMap", name, config.ConfigMapName)
	case b.Item.Disabled:
		return nil, true, nil
	case b.Err != nil:
		return nil, false, fmt.Errorf("step plugin %s is not usable: %w", name, b.Err)
	}
	return wire.StepClient{C: p.host.Plugin(config.KindStep, name)}, false, nil
}

// Call makes one step plugin call with Argo Rollouts' step context. A
// failed call that is not the plugin's own error is reported as Argo
// Rollouts' RPC client reports it ("Run rpc call error: ...").
func (p stepPlugins) Call(ctx context.Context, ro *v1alpha1.Rollout, c plan.StepPluginCall) plan.StepPluginAnswer {
	a := plan.StepPluginAnswer{StepPluginCall: c}
	s, disabled, err := p.step(c.Name)
	if err != nil || disabled {
		a.Unavailable, a.Disabled = err, disabled
		return a
	}
	sc := &wire.RpcStepContext{PluginName: c.Name, Config: c.Config, Status: c.Status}
	call := map[v1alpha1.StepPluginOperation]func(context.Context, *v1alpha1.Rollout, *wire.RpcStepContext) (wire.RpcStepResult, error){
		v1alpha1.StepPluginOperationRun:       s.Run,
		v1alpha1.StepPluginOperationTerminate: s.Terminate,
		v1alpha1.StepPluginOperationAbort:     s.Abort,
	}[c.Operation]
	if call == nil {
		a.Err = fmt.Errorf("unknown step plugin operation %q", c.Operation)
		return a
	}
	res, err := call(ctx, ro.DeepCopy(), sc)
	var own wire.RpcError
	switch {
	case err != nil && errors.As(err, &own):
		a.Err = err
	case err != nil:
		a.Err = fmt.Errorf("%s rpc call error: %v", c.Operation, err)
	default:
		a.Phase, a.Message = v1alpha1.StepPluginPhase(res.Phase), res.Message
		a.RequeueAfter, a.Status = res.RequeueAfter, res.Status
	}
	return a
}

// logGatewayAPIRouter says once which implementation routes Rollouts that
// name the argoproj-labs/gatewayAPI plugin.
func logGatewayAPIRouter(logger klog.Logger, p plugins) {
	if p.routerConfigured(gatewayapi.PluginName) {
		logger.Info("The "+gatewayapi.PluginName+" traffic router plugin is configured: its binary routes Rollouts that name it, instead of Serin's built-in Gateway API router", "plugin", gatewayapi.PluginName)
		return
	}
	logger.Info("Serin's built-in Gateway API router routes Rollouts that name the "+gatewayapi.PluginName+" plugin (no plugin of that name is configured)", "plugin", gatewayapi.PluginName)
}

// envVerifyRetryInterval is Argo Rollouts' variable for how soon a weight
// a router has not verified is checked again, in whole seconds.
const envVerifyRetryInterval = "ROLLOUT_VERIFY_RETRY_INTERVAL"

// verifyRetryInterval reads ROLLOUT_VERIFY_RETRY_INTERVAL: a positive
// number of seconds, or 0 (the plan's 10s default) when unset or invalid.
func verifyRetryInterval(lookup func(string) (string, bool), logger klog.Logger) time.Duration {
	v, ok := lookup(envVerifyRetryInterval)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil || n <= 0 {
		logger.Info("Ignoring "+envVerifyRetryInterval+": want a positive number of seconds", "value", v)
		return 0
	}
	return time.Duration(n) * time.Second
}

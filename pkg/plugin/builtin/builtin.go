// Package builtin is Serin's extension point: plugins that run inside the
// controller, under names of their own (starting with serin.dev/), behind
// the same interfaces as the clients of plugin processes. A manifest names
// one exactly as it names a configured plugin, in fields upstream's CRDs
// accept unchanged (a step's plugin, trafficRouting.plugins), and a
// built-in name is resolved before any configured binary is looked for.
package builtin

import (
	"context"
	"strings"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/builtin/approval"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

// Prefix starts the name of every built-in plugin.
const Prefix = "serin.dev/"

// Router is a traffic-router plugin, as the planner drives it.
type Router interface {
	UpdateHash(ctx context.Context, ro *v1alpha1.Rollout, canaryHash, stableHash string, extra []v1alpha1.WeightDestination) error
	SetWeight(ctx context.Context, ro *v1alpha1.Rollout, weight int32, extra []v1alpha1.WeightDestination) error
	SetHeaderRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetHeaderRoute) error
	SetMirrorRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetMirrorRoute) error
	RemoveManagedRoutes(ctx context.Context, ro *v1alpha1.Rollout) error
	VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, weight int32, extra []v1alpha1.WeightDestination) (*bool, error)
}

// Step is a step plugin. A result's Phase is Running, Successful, Failed
// or Error; an error is a failed call.
type Step interface {
	Run(ctx context.Context, ro *v1alpha1.Rollout, sc *wire.RpcStepContext) (wire.RpcStepResult, error)
	Terminate(ctx context.Context, ro *v1alpha1.Rollout, sc *wire.RpcStepContext) (wire.RpcStepResult, error)
	Abort(ctx context.Context, ro *v1alpha1.Rollout, sc *wire.RpcStepContext) (wire.RpcStepResult, error)
}

// The clients of plugin processes are Routers and Steps too.
var (
	_ Router = wire.RouterClient{}
	_ Step   = wire.StepClient{}
)

// Set holds built-in plugins by name.
type Set struct {
	Routers map[string]Router
	Steps   map[string]Step
}

// Default is the set Serin ships: the serin.dev/approval step.
func Default() Set {
	return Set{Steps: map[string]Step{approval.Name: approval.Plugin{}}}
}

// Step returns the built-in step plugin named name.
func (s Set) Step(name string) (Step, bool) {
	if !strings.HasPrefix(name, Prefix) {
		return nil, false
	}
	p, ok := s.Steps[name]
	return p, ok
}

// Router returns the built-in traffic-router plugin named name.
func (s Set) Router(name string) (Router, bool) {
	if !strings.HasPrefix(name, Prefix) {
		return nil, false
	}
	p, ok := s.Routers[name]
	return p, ok
}

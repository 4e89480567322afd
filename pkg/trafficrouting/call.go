package trafficrouting

import (
	"context"
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Method is a traffic-router plugin's method the planner orders.
type Method string

// The methods of a traffic-router plugin that change traffic. VerifyWeight
// is not among them: its answer is observed before planning (see Verifier).
const (
	RemoveManagedRoutes Method = "RemoveManagedRoutes"
	SetHeaderRoute      Method = "SetHeaderRoute"
	SetMirrorRoute      Method = "SetMirrorRoute"
	UpdateHash          Method = "UpdateHash"
	SetWeight           Method = "SetWeight"
)

// Call is one call to a traffic-router plugin, with the arguments of its
// method: CanaryHash and StableHash for UpdateHash, Weight for SetWeight,
// Additional for both, HeaderRoute or MirrorRoute for the route methods.
type Call struct {
	Plugin      string
	Method      Method
	CanaryHash  string
	StableHash  string
	Weight      int32
	Additional  []v1alpha1.WeightDestination
	HeaderRoute *v1alpha1.SetHeaderRoute
	MirrorRoute *v1alpha1.SetMirrorRoute
}

func (c Call) String() string {
	switch c.Method {
	case SetWeight:
		return fmt.Sprintf("%s.%s(%d)", c.Plugin, c.Method, c.Weight)
	case UpdateHash:
		return fmt.Sprintf("%s.%s(canary %q, stable %q)", c.Plugin, c.Method, c.CanaryHash, c.StableHash)
	}
	return c.Plugin + "." + string(c.Method)
}

// Plugins makes the calls the planner orders, and answers VerifyWeight.
// The reconciler uses it; the controller's main package implements it with
// the plugin processes (and Serin's built-in plugins). Each call is bounded
// by a deadline; an implementation holds no lock across a call.
type Plugins interface {
	// Call makes one call for the Rollout.
	Call(ctx context.Context, ro *v1alpha1.Rollout, c Call) error
	// VerifyWeight asks the plugin whether the weight and the additional
	// destinations are in force. A nil answer means the plugin cannot tell.
	VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, plugin string, weight int32, additional []v1alpha1.WeightDestination) (*bool, error)
}

// PluginRouter is a Router driven through calls to a plugin: its Plan
// returns only Calls.
type PluginRouter interface {
	Router
	// Plugin is the plugin's name, as spec.strategy.canary.trafficRouting.plugins keys it.
	Plugin() string
}

// Package pluginrouter is the Router of a traffic-router plugin: it plans
// the plugin's calls, in Argo Rollouts' order, from the desired split. It
// calls nothing itself: the reconciler makes the calls through
// trafficrouting.Plugins.
package pluginrouter

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// TypeName is the type Argo Rollouts reports for every plugin router.
const TypeName = "RPCPlugin"

// Router plans the calls to one traffic-router plugin.
type Router struct{ name string }

var _ trafficrouting.PluginRouter = Router{}

// New returns the Router of the plugin named name.
func New(name string) Router { return Router{name: name} }

// Plugin is the plugin's name.
func (r Router) Plugin() string { return r.name }

// Type names the provider.
func (r Router) Type() string { return TypeName }

// Resources is empty: a plugin reads and writes its objects itself.
func (r Router) Resources() []schema.GroupVersionResource { return nil }

// References is empty, for the same reason.
func (r Router) References(*v1alpha1.Rollout) []trafficrouting.Ref { return nil }

// Validate accepts every spec: the plugin validates its own configuration
// when it is called.
func (r Router) Validate(*v1alpha1.Rollout, map[trafficrouting.Ref]*unstructured.Unstructured) error {
	return nil
}

// Plan lists the calls, in this order: RemoveManagedRoutes on the
// occasions d.RemoveRoutes names; the current step's SetHeaderRoute and
// SetMirrorRoute; SetWeight first when d.ResetWeightFirst; UpdateHash;
// SetWeight. While d.Hold only RemoveManagedRoutes is called.
func (r Router) Plan(_ *v1alpha1.Rollout, _ map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	var calls []trafficrouting.Call
	call := func(c trafficrouting.Call) {
		c.Plugin = r.name
		calls = append(calls, c)
	}
	if d.RemoveRoutes {
		call(trafficrouting.Call{Method: trafficrouting.RemoveManagedRoutes})
	}
	if d.Hold {
		return trafficrouting.Writes{Calls: calls}, nil
	}
	if d.StepHeaderRoute != nil {
		call(trafficrouting.Call{Method: trafficrouting.SetHeaderRoute, HeaderRoute: d.StepHeaderRoute})
	}
	if d.StepMirrorRoute != nil {
		call(trafficrouting.Call{Method: trafficrouting.SetMirrorRoute, MirrorRoute: d.StepMirrorRoute})
	}
	setWeight := trafficrouting.Call{Method: trafficrouting.SetWeight, Weight: d.CanaryWeight, Additional: d.Additional}
	if d.ResetWeightFirst {
		call(setWeight)
	}
	call(trafficrouting.Call{Method: trafficrouting.UpdateHash, CanaryHash: d.CanaryHash, StableHash: d.StableHash, Additional: d.Additional})
	call(setWeight)
	return trafficrouting.Writes{Calls: calls}, nil
}

// Package trafficrouting defines how the Rollout reconciler splits traffic
// between the stable and canary revisions through a mesh, an ingress or a
// gateway. A Router is pure: it names the objects it needs (the reconciler
// reads them from informer caches), and computes from them and the desired
// split the writes to make (the reconciler applies them). Routers never call
// the API server and never import the reconciler.
package trafficrouting

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Ref names one object a router reads or writes. A Ref with a Selector
// and no Name stands for every object of the resource in the namespace
// whose labels match the selector (a label selector in its string form):
// the reconciler reads each of them under its own Ref, with a Name.
type Ref struct {
	Resource  schema.GroupVersionResource
	Namespace string
	Name      string
	Selector  string
}

// Desired is the traffic split and the managed routes a Rollout wants now.
type Desired struct {
	// StableService and CanaryService are the Services named by the Rollout.
	StableService, CanaryService string
	// StableHash and CanaryHash are the pod template hashes of the two
	// revisions, for subset-level routing (DestinationRule subsets).
	StableHash, CanaryHash string
	// CanaryWeight is the share of traffic for the canary, out of MaxWeight;
	// the stable side gets the rest minus the additional destinations.
	CanaryWeight int32
	MaxWeight    int32
	// Additional are experiment destinations with their own weights.
	Additional []v1alpha1.WeightDestination
	// AdditionalPorts are the ports of the Additional destinations'
	// Services, for routers whose backends name a port.
	AdditionalPorts map[string]int32
	// PreviousAdditional are the experiment destinations the routers were
	// told to carry last (status.canary.weights.additional): those no longer
	// in Additional are removed.
	PreviousAdditional []v1alpha1.WeightDestination
	// HeaderRoutes and MirrorRoutes are the managed routes in force, each
	// listed once; a managed route not listed must be removed.
	HeaderRoutes []v1alpha1.SetHeaderRoute
	MirrorRoutes []v1alpha1.SetMirrorRoute

	// The fields below drive plugin routers, which are told what to do
	// call by call rather than given a desired state.

	// RemoveRoutes is set on the occasions managed routes go: the rollout
	// is fully promoted or aborting, the canary has no available pod, or a
	// full promotion was requested.
	RemoveRoutes bool
	// StepHeaderRoute and StepMirrorRoute are the routes the current step
	// sets, from the Rollout's second revision on; they are told again on
	// every reconcile the step is current.
	StepHeaderRoute *v1alpha1.SetHeaderRoute
	StepMirrorRoute *v1alpha1.SetMirrorRoute
	// ResetWeightFirst is set when the canary has no available pod while
	// the recorded split gives it weight: the weight is set before the
	// hashes change, so that no traffic goes to pods that do not exist.
	ResetWeightFirst bool
	// Hold is set when the stable revision cannot take the traffic the
	// split would give it: nothing moves, but managed routes still go.
	Hold bool
}

// Change is an object a router plans to write, with the reference (resource,
// namespace, name) it is written to: nothing guesses a resource from a kind.
type Change struct {
	Ref Ref
	*unstructured.Unstructured
	// Replace sends an update as a whole-object update (PUT, guarded by
	// the resourceVersion) instead of a merge patch: for kinds Argo
	// Rollouts' ClusterRole lets the controller update but not patch
	// (TraefikServices, Ambassador Mappings, ApisixRoutes).
	Replace bool
}

// Writes are the changes a router plans.
type Writes struct {
	// Updates are observed objects changed in place (resourceVersion kept,
	// so a concurrent edit fails with a conflict instead of being lost).
	// Their order matters: apply them in order and stop at the first
	// failure (an Istio DestinationRule must point its subsets at the right
	// pods before a VirtualService sends them traffic).
	Updates []Change
	// Creates are objects the router owns and that do not exist yet (an
	// nginx canary Ingress, an SMI TrafficSplit).
	Creates []Change
	// Deletes are objects the router owns and no longer needs.
	Deletes []Ref
	// Calls are calls to a traffic-router plugin, made in order after the
	// object writes (a plugin router plans only calls).
	Calls []Call
}

// Empty tells whether nothing is to be written.
func (w Writes) Empty() bool {
	return len(w.Updates)+len(w.Creates)+len(w.Deletes)+len(w.Calls) == 0
}

// Op is what one Write does to its object.
type Op int

const (
	// Update replaces an observed object, guarded by its resourceVersion.
	Update Op = iota + 1
	// Create creates an object the router owns.
	Create
	// Delete deletes an object the router owns.
	Delete
	// PluginCall calls a traffic-router plugin.
	PluginCall
)

func (o Op) String() string {
	switch o {
	case Update:
		return "update"
	case Create:
		return "create"
	case Delete:
		return "delete"
	case PluginCall:
		return "call"
	}
	return "unknown"
}

// Write is one write to a traffic-routing object, or one call to a
// traffic-router plugin. Object is nil for a Delete; Call is set only for a
// PluginCall.
type Write struct {
	Op     Op
	Ref    Ref
	Object *unstructured.Unstructured
	Call   *Call
	// Observed is, for an update, the object as it was planned from: the
	// update is sent as the merge patch from it to Object, guarded by its
	// resourceVersion.
	Observed *unstructured.Unstructured
	// Replace is the Change's Replace.
	Replace bool
}

// InOrder lists the writes in the order to apply them, stopping at the
// first failure: updates, then creates, then deletes. Updates carry the
// observed object they change.
func (w Writes) InOrder(observed map[Ref]*unstructured.Unstructured) []Write {
	out := make([]Write, 0, len(w.Updates)+len(w.Creates)+len(w.Deletes)+len(w.Calls))
	for _, c := range w.Updates {
		out = append(out, Write{Op: Update, Ref: c.Ref, Object: c.Unstructured, Observed: observed[c.Ref], Replace: c.Replace})
	}
	for _, c := range w.Creates {
		out = append(out, Write{Op: Create, Ref: c.Ref, Object: c.Unstructured})
	}
	for _, ref := range w.Deletes {
		out = append(out, Write{Op: Delete, Ref: ref})
	}
	for i := range w.Calls {
		out = append(out, Write{Op: PluginCall, Call: &w.Calls[i]})
	}
	return out
}

// Router is one traffic-routing provider.
type Router interface {
	// Type names the provider, such as "Istio" or "Nginx".
	Type() string
	// Resources lists every resource the router may read or write, so that
	// caches can be made for them.
	Resources() []schema.GroupVersionResource
	// References lists the objects the router needs for a Rollout: those the
	// spec names and those the router owns (which may not exist yet).
	References(ro *v1alpha1.Rollout) []Ref
	// Validate checks, without planning any write, that the objects the
	// spec names exist and can carry a split for this Rollout. Its error
	// names the object and what is wrong with it.
	Validate(ro *v1alpha1.Rollout, observed map[Ref]*unstructured.Unstructured) error
	// Plan computes the writes that bring the observed objects to the
	// desired split. observed holds every referenced object that exists; a
	// missing object the spec names is an error whose message names it, and
	// then no write is planned, so traffic stays where it is.
	Plan(ro *v1alpha1.Rollout, observed map[Ref]*unstructured.Unstructured, d Desired) (Writes, error)
}

// Follower is implemented by a router some of whose objects are named by
// others: an App Mesh VirtualService names its VirtualRouter. The
// reconciler reads the References first, then the objects Follow names
// from what was found.
type Follower interface {
	Follow(ro *v1alpha1.Rollout, observed map[Ref]*unstructured.Unstructured) []Ref
}

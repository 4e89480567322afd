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

// Ref names one object a router reads or writes.
type Ref struct {
	Resource  schema.GroupVersionResource
	Namespace string
	Name      string
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
	// HeaderRoutes and MirrorRoutes are the managed routes in force, each
	// listed once; a managed route not listed must be removed.
	HeaderRoutes []v1alpha1.SetHeaderRoute
	MirrorRoutes []v1alpha1.SetMirrorRoute
	// Promoted says the Rollout is fully promoted (or at its first revision):
	// nothing is being released, so objects that only exist for a canary,
	// such as the nginx canary Ingress, may go when CanaryWeight is 0.
	Promoted bool
}

// Writes are the changes a router plans.
type Writes struct {
	// Updates are observed objects changed in place (resourceVersion kept,
	// so a concurrent edit fails with a conflict instead of being lost).
	// Their order matters: apply them in order and stop at the first
	// failure (an Istio DestinationRule must point its subsets at the right
	// pods before a VirtualService sends them traffic).
	Updates []*unstructured.Unstructured
	// Creates are objects the router owns and that do not exist yet (an
	// nginx canary Ingress, an SMI TrafficSplit).
	Creates []*unstructured.Unstructured
	// Deletes are objects the router owns and no longer needs.
	Deletes []Ref
}

// Router is one traffic-routing provider.
type Router interface {
	// Type names the provider, such as "Istio" or "Nginx".
	Type() string
	// References lists the objects the router needs for a Rollout: those the
	// spec names and those the router owns (which may not exist yet).
	References(ro *v1alpha1.Rollout) []Ref
	// Plan computes the writes that bring the observed objects to the
	// desired split. observed holds every referenced object that exists; a
	// missing object the spec names is an error whose message names it, and
	// then no write is planned, so traffic stays where it is.
	Plan(ro *v1alpha1.Rollout, observed map[Ref]*unstructured.Unstructured, d Desired) (Writes, error)
	// Weights reads the split the observed objects carry now.
	Weights(ro *v1alpha1.Rollout, observed map[Ref]*unstructured.Unstructured, d Desired) (*v1alpha1.TrafficWeights, error)
}

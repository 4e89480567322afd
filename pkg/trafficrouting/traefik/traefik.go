// Package traefik splits traffic with a weighted TraefikService: the
// Rollout sets the weights of its canary and stable Services among the
// TraefikService's spec.weighted.services. The TraefikService is the
// user's; the router only changes those two weights.
package traefik

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// DefaultAPIGroup and DefaultAPIVersion are Argo Rollouts' defaults (its
// --traefik-api-group and --traefik-api-version flags).
const (
	DefaultAPIGroup   = "traefik.io"
	DefaultAPIVersion = "traefik.io/v1alpha1"
)

// Router is the Traefik traffic router.
type Router struct {
	gvr schema.GroupVersionResource
}

// New returns a Traefik router for TraefikServices of the given API group
// and version. The version may carry a group prefix ("traefik.io/v1alpha1"),
// which is dropped as Argo Rollouts drops it; empty values mean the
// defaults.
func New(apiGroup, apiVersion string) trafficrouting.Router {
	if apiGroup == "" {
		apiGroup = DefaultAPIGroup
	}
	if apiVersion == "" {
		apiVersion = DefaultAPIVersion
	}
	version := apiVersion[strings.LastIndex(apiVersion, "/")+1:]
	return &Router{gvr: schema.GroupVersionResource{Group: apiGroup, Version: version, Resource: "traefikservices"}}
}

// TraefikServices is the GVR the router reads and writes.
func (r *Router) TraefikServices() schema.GroupVersionResource { return r.gvr }

// Resources lists the GVRs the router may reference.
func (r *Router) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{r.gvr}
}

// Type names the provider.
func (r *Router) Type() string { return "Traefik" }

func config(ro *v1alpha1.Rollout) *v1alpha1.TraefikTrafficRouting {
	if tr := trafficrouting.Routing(ro); tr != nil {
		return tr.Traefik
	}
	return nil
}

func (r *Router) ref(ro *v1alpha1.Rollout, cfg *v1alpha1.TraefikTrafficRouting) trafficrouting.Ref {
	return trafficrouting.Ref{Resource: r.gvr, Namespace: ro.Namespace, Name: cfg.WeightedTraefikServiceName}
}

// References names the weighted TraefikService.
func (r *Router) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	return []trafficrouting.Ref{r.ref(ro, cfg)}
}

// Validate checks that the TraefikService exists and lists both Services
// among its weighted services.
func (r *Router) Validate(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) error {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	_, err := r.plan(ro, cfg, observed, trafficrouting.Desired{
		StableService: ro.Spec.Strategy.Canary.StableService,
		CanaryService: ro.Spec.Strategy.Canary.CanaryService,
	})
	return err
}

// Plan sets the canary Service's weight to the canary weight and the
// stable Service's to the rest.
func (r *Router) Plan(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	cfg := config(ro)
	if cfg == nil {
		return trafficrouting.Writes{}, nil
	}
	planned, err := r.plan(ro, cfg, observed, d)
	if err != nil || planned == nil {
		return trafficrouting.Writes{}, err
	}
	return trafficrouting.Writes{Updates: []trafficrouting.Change{{Ref: r.ref(ro, cfg), Unstructured: planned, Replace: true}}}, nil
}

// plan returns the TraefikService with the desired weights, nil when it
// already carries them.
func (r *Router) plan(ro *v1alpha1.Rollout, cfg *v1alpha1.TraefikTrafficRouting, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (*unstructured.Unstructured, error) {
	ref := r.ref(ro, cfg)
	obj := observed[ref]
	if obj == nil {
		return nil, fmt.Errorf("TraefikService %q not found", ref.Namespace+"/"+ref.Name)
	}
	out := obj.DeepCopy()
	services, found, err := unstructured.NestedSlice(out.Object, "spec", "weighted", "services")
	if err != nil || !found {
		return nil, fmt.Errorf("TraefikService %q: spec.weighted.services was not found", ref.Name)
	}
	for _, side := range []struct {
		role, name string
		weight     int32
	}{{"canary", d.CanaryService, d.CanaryWeight}, {"stable", d.StableService, d.StableWeight()}} {
		svc, err := findService(services, side.name)
		if err != nil {
			return nil, fmt.Errorf("TraefikService %q: %w", ref.Name, err)
		}
		if svc == nil {
			return nil, fmt.Errorf("TraefikService %q: the %s Service %q is not among spec.weighted.services", ref.Name, side.role, side.name)
		}
		svc["weight"] = int64(side.weight)
	}
	if err := unstructured.SetNestedSlice(out.Object, services, "spec", "weighted", "services"); err != nil {
		return nil, err
	}
	if trafficrouting.SameContent(out, obj) {
		return nil, nil
	}
	return out, nil
}

// findService returns the weighted service of the given name, nil when
// there is none.
func findService(services []any, name string) (map[string]any, error) {
	for i, raw := range services {
		svc, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.weighted.services[%d] is not an object", i)
		}
		n, ok := svc["name"].(string)
		if !ok {
			return nil, errors.New("a weighted service has no name")
		}
		if n == name {
			return svc, nil
		}
	}
	return nil, nil
}

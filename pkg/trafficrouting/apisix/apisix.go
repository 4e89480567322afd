// Package apisix splits traffic with an Apache APISIX ApisixRoute: the
// Rollout sets the weights of its canary and stable backends in the route's
// HTTP rules. A header route is an ApisixRoute of its own, named after the
// route, that the Rollout owns: a copy of the main route whose rules send
// requests matching the headers only to the canary, at a higher priority.
package apisix

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Routes is the GVR of ApisixRoutes, which Argo Rollouts does not let one
// configure.
var Routes = schema.GroupVersionResource{Group: "apisix.apache.org", Version: "v2", Resource: "apisixroutes"}

// Router is the APISIX traffic router.
type Router struct{}

// New returns an APISIX router.
func New() trafficrouting.Router { return &Router{} }

// Resources lists the GVRs the router may reference.
func (r *Router) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{Routes}
}

// Type names the provider.
func (r *Router) Type() string { return "Apisix" }

func config(ro *v1alpha1.Rollout) *v1alpha1.ApisixRoute {
	if tr := trafficrouting.Routing(ro); tr != nil && tr.Apisix != nil {
		return tr.Apisix.Route
	}
	return nil
}

func ref(ro *v1alpha1.Rollout, name string) trafficrouting.Ref {
	return trafficrouting.Ref{Resource: Routes, Namespace: ro.Namespace, Name: name}
}

// References names the main route and the header routes' ApisixRoutes,
// which may not exist yet.
func (r *Router) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	out := []trafficrouting.Ref{ref(ro, cfg.Name)}
	for _, name := range trafficrouting.ManagedRouteNames(ro) {
		out = append(out, ref(ro, name))
	}
	return out
}

// Validate checks that the route exists and that each rule the Rollout
// names has both backends.
func (r *Router) Validate(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) error {
	if tr := trafficrouting.Routing(ro); tr != nil && tr.Apisix != nil && tr.Apisix.Route == nil {
		return fmt.Errorf("apisix.route is required")
	}
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	c := ro.Spec.Strategy.Canary
	_, err := planWeights(observed[ref(ro, cfg.Name)], cfg, trafficrouting.Desired{StableService: c.StableService, CanaryService: c.CanaryService})
	return err
}

// Plan sets the backend weights of the main route, then creates, updates
// or deletes the header routes' ApisixRoutes.
func (r *Router) Plan(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	cfg := config(ro)
	if cfg == nil {
		return trafficrouting.Writes{}, nil
	}
	main := observed[ref(ro, cfg.Name)]
	planned, err := planWeights(main, cfg, d)
	if err != nil {
		return trafficrouting.Writes{}, err
	}
	var w trafficrouting.Writes
	if !trafficrouting.SameContent(planned, main) {
		w.Updates = append(w.Updates, trafficrouting.Change{Ref: ref(ro, cfg.Name), Unstructured: planned, Replace: true})
	}
	if err := planHeaderRoutes(ro, cfg, main, observed, d, &w); err != nil {
		return trafficrouting.Writes{}, err
	}
	return w, nil
}

// planWeights returns the route with the canary backend of each rule at
// the canary weight and the stable backend at the rest.
func planWeights(obj *unstructured.Unstructured, cfg *v1alpha1.ApisixRoute, d trafficrouting.Desired) (*unstructured.Unstructured, error) {
	if obj == nil {
		return nil, fmt.Errorf("ApisixRoute %q not found", cfg.Name)
	}
	out := obj.DeepCopy()
	err := eachRule(out, cfg, func(rule map[string]any) error {
		backends, err := backendsOf(rule)
		if err != nil {
			return err
		}
		if err := setWeight(backends, d.CanaryService, d.CanaryWeight); err != nil {
			return err
		}
		return setWeight(backends, d.StableService, d.StableWeight())
	})
	if err != nil {
		return nil, fmt.Errorf("ApisixRoute %q: %w", cfg.Name, err)
	}
	return out, nil
}

// eachRule calls f with each HTTP rule the Rollout names (spec.rules, or
// else the rule named like the route), in place.
func eachRule(obj *unstructured.Unstructured, cfg *v1alpha1.ApisixRoute, f func(map[string]any) error) error {
	spec, _ := obj.Object["spec"].(map[string]any)
	rules, ok := spec["http"].([]any)
	if !ok {
		return fmt.Errorf("spec.http was not found")
	}
	names := cfg.Rules
	if len(names) == 0 {
		names = []string{cfg.Name}
	}
	for _, name := range names {
		rule, err := ruleNamed(rules, name)
		if err != nil {
			return err
		}
		if err := f(rule); err != nil {
			return fmt.Errorf("http rule %q: %w", name, err)
		}
	}
	return nil
}

func ruleNamed(rules []any, name string) (map[string]any, error) {
	for i, raw := range rules {
		rule, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.http[%d] is not an object", i)
		}
		if n, _ := rule["name"].(string); n == name {
			return rule, nil
		}
	}
	return nil, fmt.Errorf("http rule %q not found", name)
}

func backendsOf(rule map[string]any) ([]any, error) {
	backends, ok := rule["backends"].([]any)
	if !ok {
		return nil, fmt.Errorf("no backends")
	}
	return backends, nil
}

// setWeight sets the weight of the backend of the given Service.
func setWeight(backends []any, service string, weight int32) error {
	for _, raw := range backends {
		b, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("a backend is not an object")
		}
		if name, _ := b["serviceName"].(string); name == service {
			b["weight"] = int64(weight)
			return nil
		}
	}
	return fmt.Errorf("backend %q not found", service)
}

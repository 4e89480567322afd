package alb

import (
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// desired is the Ingress with the forward action, the header routes in
// force and the bookkeeping of the Rollout's annotations.
func (r *Router) desired(ro *v1alpha1.Rollout, cfg *v1alpha1.ALBTrafficRouting, ing *unstructured.Unstructured, d trafficrouting.Desired) (*unstructured.Unstructured, error) {
	stable, canary := trafficrouting.Services(ro, true)
	annotations := map[string]string{}
	for k, v := range ing.GetAnnotations() {
		annotations[k] = v
	}
	weightKey := actionKey(cfg, ActionService(ro))
	forward, err := forwardAction(cfg, splitTargets(stable, canary, d.CanaryWeight, d.Max(), d.Additional))
	if err != nil {
		return nil, err
	}
	annotations[weightKey] = forward
	add, remove := []string{weightKey}, []string(nil)
	updated := ing.DeepCopy()
	for _, name := range trafficrouting.ManagedRouteNames(ro) {
		aKey, cKey := actionKey(cfg, name), conditionKey(cfg, name)
		route := headerRoute(d.HeaderRoutes, name)
		if route == nil {
			delete(annotations, aKey)
			delete(annotations, cKey)
			remove = append(remove, aKey, cKey)
			r.removePaths(updated, name)
			continue
		}
		if annotations[aKey], err = forwardAction(cfg, []weightedTarget{{service: canary, weight: 100}}); err != nil {
			return nil, err
		}
		if annotations[cKey], err = headerConditions(*route); err != nil {
			return nil, err
		}
		add = append(add, aKey, cKey)
		r.addPaths(updated, name)
	}
	m, err := parseManaged(annotations[ManagedAnnotations])
	if err != nil {
		return nil, err
	}
	m.update(ro.Name, add, remove)
	annotations[ManagedAnnotations] = m.String()
	updated.SetAnnotations(annotations)
	r.sortPaths(updated, trafficrouting.Routing(ro).ManagedRoutes)
	return updated, nil
}

func headerRoute(routes []v1alpha1.SetHeaderRoute, name string) *v1alpha1.SetHeaderRoute {
	for i := range routes {
		if routes[i].Name == name && len(routes[i].Match) > 0 {
			return &routes[i]
		}
	}
	return nil
}

// rulePaths calls f with the paths of every rule that has an http section,
// and stores what f returns.
func rulePaths(ing *unstructured.Unstructured, f func(paths []any) []any) {
	rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
	if rules == nil {
		return
	}
	for _, raw := range rules {
		rule, _ := raw.(map[string]any)
		http, _ := rule["http"].(map[string]any)
		if http == nil {
			continue
		}
		paths, _ := http["paths"].([]any)
		http["paths"] = f(paths)
	}
	_ = unstructured.SetNestedSlice(ing.Object, rules, "spec", "rules")
}

func (r *Router) backendService(path any) string {
	p, _ := path.(map[string]any)
	backend, _ := p["backend"].(map[string]any)
	if r.legacy() {
		name, _ := backend["serviceName"].(string)
		return name
	}
	svc, _ := backend["service"].(map[string]any)
	name, _ := svc["name"].(string)
	return name
}

func (r *Router) hasBackend(ing *unstructured.Unstructured, service string) bool {
	found := false
	rulePaths(ing.DeepCopy(), func(paths []any) []any {
		found = found || slices.ContainsFunc(paths, func(p any) bool { return r.backendService(p) == service })
		return paths
	})
	return found
}

// annotationPath is the path that hands a request to the action of the
// given name: the ALB controller reads use-annotation as "look up
// actions.<name>".
func (r *Router) annotationPath(name string) map[string]any {
	if r.legacy() {
		return map[string]any{"path": "/*", "pathType": "ImplementationSpecific",
			"backend": map[string]any{"serviceName": name, "servicePort": "use-annotation"}}
	}
	return map[string]any{"path": "/*", "pathType": "ImplementationSpecific",
		"backend": map[string]any{"service": map[string]any{"name": name, "port": map[string]any{"name": "use-annotation"}}}}
}

// addPaths puts the route's path first in every rule, unless some rule
// already sends to it.
func (r *Router) addPaths(ing *unstructured.Unstructured, name string) {
	if r.hasBackend(ing, name) {
		return
	}
	rulePaths(ing, func(paths []any) []any {
		return append([]any{r.annotationPath(name)}, paths...)
	})
}

// removePaths drops from every rule the first path that sends to the route.
func (r *Router) removePaths(ing *unstructured.Unstructured, name string) {
	rulePaths(ing, func(paths []any) []any {
		if i := slices.IndexFunc(paths, func(p any) bool { return r.backendService(p) == name }); i >= 0 {
			return slices.Delete(paths, i, i+1)
		}
		return paths
	})
}

// sortPaths orders the paths of every rule so that those of managed routes
// come first, in the order of managedRoutes; the rest keep their order.
func (r *Router) sortPaths(ing *unstructured.Unstructured, routes []v1alpha1.ManagedRoute) {
	if len(routes) == 0 {
		return
	}
	rank := map[string]int{}
	for i, m := range routes {
		rank[m.Name] = i
	}
	order := func(p any) int {
		if i, ok := rank[r.backendService(p)]; ok {
			return i
		}
		return len(routes)
	}
	rulePaths(ing, func(paths []any) []any {
		sort.SliceStable(paths, func(i, j int) bool { return order(paths[i]) < order(paths[j]) })
		return paths
	})
}

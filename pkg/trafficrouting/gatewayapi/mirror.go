package gatewayapi

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Mirror routes exist in HTTPRoutes only (Gateway API has no mirror filter
// for the other kinds). Each mirror route in force becomes one rule, named
// after it, in every configured HTTPRoute, whether or not that route takes
// header routes: the rule matches the step's conditions, serves from the
// same weighted backends as the first rule that sends to both Services, and
// copies each request to the canary Service with a RequestMirror filter.

// mirrorNames are the names of the Rollout's mirror routes: those its
// setMirrorRoute steps use and those in force.
func mirrorNames(ro *v1alpha1.Rollout, d trafficrouting.Desired) map[string]bool {
	out := map[string]bool{}
	if ro != nil && ro.Spec.Strategy.Canary != nil {
		for _, s := range ro.Spec.Strategy.Canary.Steps {
			if s.SetMirrorRoute != nil {
				out[s.SetMirrorRoute.Name] = true
			}
		}
	}
	for _, m := range d.MirrorRoutes {
		out[m.Name] = true
	}
	return out
}

// isMirrorRule tells a mirror rule this router wrote by its name.
func (p *planner) isMirrorRule(rule map[string]any) bool {
	name, _ := rule["name"].(string)
	return name != "" && p.mirrors[name]
}

// activeMirrorRoutes lists the mirror routes in force, in the order of
// trafficRouting.managedRoutes, then the others in step order.
func (p *planner) activeMirrorRoutes() []v1alpha1.SetMirrorRoute {
	var out []v1alpha1.SetMirrorRoute
	seen := map[string]bool{}
	for _, name := range p.managed {
		for _, m := range p.d.MirrorRoutes {
			if m.Name == name && len(m.Match) > 0 && !seen[name] {
				out = append(out, m)
				seen[name] = true
			}
		}
	}
	for _, m := range p.d.MirrorRoutes {
		if len(m.Match) > 0 && !seen[m.Name] {
			out = append(out, m)
			seen[m.Name] = true
		}
	}
	return out
}

// mirrorRules builds the mirror rules of the routes in force from the
// first rule that sends to both Services (its weights already set).
func (p *planner) mirrorRules(sources []any) ([]any, error) {
	active := p.activeMirrorRoutes()
	if len(active) == 0 {
		return nil, nil
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("no rule sends to both %q and %q to copy mirror route %q from", p.d.StableService, p.d.CanaryService, active[0].Name)
	}
	src := sources[0].(map[string]any)
	out := make([]any, 0, len(active))
	for _, m := range active {
		matches, err := mirrorMatches(m)
		if err != nil {
			return nil, err
		}
		mirror := map[string]any{"backendRef": canaryRef(src, p.d.CanaryService)}
		if m.Percentage != nil {
			mirror["percent"] = int64(*m.Percentage)
		}
		out = append(out, map[string]any{
			"name":        m.Name,
			"matches":     matches,
			"filters":     []any{map[string]any{"type": "RequestMirror", "requestMirror": mirror}},
			"backendRefs": runtime.DeepCopyJSONValue(src["backendRefs"]),
		})
	}
	return out, nil
}

// mirrorMatches turns a mirror step's conditions into HTTPRoute matches:
// path exact, prefix (PathPrefix) or regex; method exact; headers exact,
// prefix ("<prefix>.*" as a regular expression) or regex, sorted by name.
func mirrorMatches(m v1alpha1.SetMirrorRoute) ([]any, error) {
	out := make([]any, 0, len(m.Match))
	bad := func(what string) error {
		return fmt.Errorf("mirror route %q: invalid mirror match type for %s", m.Name, what)
	}
	for _, rm := range m.Match {
		match := map[string]any{}
		if v := rm.Path; v != nil {
			switch {
			case v.Exact != "":
				match["path"] = map[string]any{"type": "Exact", "value": v.Exact}
			case v.Prefix != "":
				match["path"] = map[string]any{"type": "PathPrefix", "value": v.Prefix}
			case v.Regex != "":
				match["path"] = map[string]any{"type": "RegularExpression", "value": v.Regex}
			default:
				return nil, bad("path")
			}
		}
		if v := rm.Method; v != nil {
			if v.Exact == "" {
				return nil, bad("method")
			}
			match["method"] = v.Exact
		}
		names := make([]string, 0, len(rm.Headers))
		for name := range rm.Headers {
			names = append(names, name)
		}
		sort.Strings(names)
		var headers []any
		for _, name := range names {
			h, err := headerMatches(v1alpha1.SetHeaderRoute{Name: m.Name, Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: name, HeaderValue: ptr(rm.Headers[name])}}})
			if err != nil {
				return nil, bad("header " + name)
			}
			headers = append(headers, h...)
		}
		if len(headers) > 0 {
			match["headers"] = headers
		}
		out = append(out, match)
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

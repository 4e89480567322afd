package istio

import (
	"slices"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// activeRouteNames lists the managed routes to install, in precedence
// order: trafficRouting.managedRoutes first, then any other desired one.
// A header or mirror route without a match is a removal, as in Argo
// Rollouts, so it is not active.
func (s *split) activeRouteNames() []string {
	var active []string
	for _, h := range s.d.HeaderRoutes {
		if len(h.Match) > 0 && h.Name != "" {
			active = append(active, h.Name)
		}
	}
	for _, m := range s.d.MirrorRoutes {
		if len(m.Match) > 0 && m.Name != "" {
			active = append(active, m.Name)
		}
	}
	var ordered []string
	for _, n := range s.managed {
		if slices.Contains(active, n) && !slices.Contains(ordered, n) {
			ordered = append(ordered, n)
		}
	}
	for _, n := range active {
		if !slices.Contains(ordered, n) {
			ordered = append(ordered, n)
		}
	}
	return ordered
}

// canaryHost is where header and mirror routes send requests: the
// DestinationRule's host with subsets, the canary Service without.
func (s *split) canaryHost() string {
	if s.drHost != "" {
		return s.drHost
	}
	return s.d.CanaryService
}

// firstPort is the port of the first destination of the split route, which
// header and mirror routes reuse for the canary.
func firstPort(target any) (int64, bool) {
	m, _ := target.(map[string]any)
	dests, _ := m["route"].([]any)
	if len(dests) == 0 {
		return 0, false
	}
	dm, _ := dests[0].(map[string]any)
	dest, _ := dm["destination"].(map[string]any)
	port, _ := dest["port"].(map[string]any)
	n, ok := trafficrouting.Int(port["number"])
	return n, ok && n > 0
}

func (s *split) canaryDestination(target any) map[string]any {
	dest := map[string]any{"host": s.canaryHost()}
	if p, ok := firstPort(target); ok {
		dest["port"] = map[string]any{"number": p}
	}
	if sub := s.canarySubset(); sub != "" {
		dest["subset"] = sub
	}
	return dest
}

// managedRoutes builds the header and mirror routes in force, in order.
// target is the (already split) route whose destinations they follow.
func (s *split) managedRoutes(target any) []any {
	var out []any
	for _, name := range s.activeRouteNames() {
		if h := findHeader(s.d.HeaderRoutes, name); h != nil {
			out = append(out, s.headerRoute(h, target))
		} else if m := findMirror(s.d.MirrorRoutes, name); m != nil {
			out = append(out, s.mirrorRoute(m, target))
		}
	}
	return out
}

func findHeader(hs []v1alpha1.SetHeaderRoute, name string) *v1alpha1.SetHeaderRoute {
	for i := range hs {
		if hs[i].Name == name && len(hs[i].Match) > 0 {
			return &hs[i]
		}
	}
	return nil
}

func findMirror(ms []v1alpha1.SetMirrorRoute, name string) *v1alpha1.SetMirrorRoute {
	for i := range ms {
		if ms[i].Name == name && len(ms[i].Match) > 0 {
			return &ms[i]
		}
	}
	return nil
}

func stringMatch(m *v1alpha1.StringMatch) map[string]any {
	out := map[string]any{}
	if m == nil {
		return out
	}
	if m.Exact != "" {
		out["exact"] = m.Exact
	}
	if m.Prefix != "" {
		out["prefix"] = m.Prefix
	}
	if m.Regex != "" {
		out["regex"] = m.Regex
	}
	return out
}

// headerRoute sends every request carrying one of the headers to the
// canary. Each header is its own match entry, as Argo Rollouts writes it.
func (s *split) headerRoute(h *v1alpha1.SetHeaderRoute, target any) map[string]any {
	matches := make([]any, 0, len(h.Match))
	for _, hm := range h.Match {
		matches = append(matches, map[string]any{
			"headers": map[string]any{hm.HeaderName: stringMatch(hm.HeaderValue)},
		})
	}
	return map[string]any{
		"name":  h.Name,
		"match": matches,
		"route": []any{map[string]any{
			"destination": s.canaryDestination(target),
			"weight":      int64(100),
		}},
	}
}

// mirrorRoute routes matching requests like the split route does and
// copies a percentage of them to the canary.
func (s *split) mirrorRoute(m *v1alpha1.SetMirrorRoute, target any) map[string]any {
	matches := make([]any, 0, len(m.Match))
	for _, rm := range m.Match {
		entry := map[string]any{}
		if rm.Method != nil {
			entry["method"] = stringMatch(rm.Method)
		}
		if rm.Path != nil {
			entry["uri"] = stringMatch(rm.Path)
		}
		if len(rm.Headers) > 0 {
			headers := map[string]any{}
			for name, v := range rm.Headers {
				headers[name] = stringMatch(&v)
			}
			entry["headers"] = headers
		}
		matches = append(matches, entry)
	}
	percent := int64(100)
	if m.Percentage != nil {
		percent = int64(*m.Percentage)
	}
	return map[string]any{
		"name":             m.Name,
		"match":            matches,
		"route":            copyDestinations(target),
		"mirror":           s.canaryDestination(target),
		"mirrorPercentage": map[string]any{"value": percent},
	}
}

// copyDestinations keeps the host, subset, port and weight of each of the
// split route's destinations (no weight when it is zero).
func copyDestinations(target any) []any {
	m, _ := target.(map[string]any)
	dests, _ := m["route"].([]any)
	out := make([]any, 0, len(dests))
	for _, raw := range dests {
		dm, _ := raw.(map[string]any)
		src, _ := dm["destination"].(map[string]any)
		dest := map[string]any{}
		if h, ok := src["host"].(string); ok && h != "" {
			dest["host"] = h
		}
		if sub, ok := src["subset"].(string); ok && sub != "" {
			dest["subset"] = sub
		}
		if port, ok := src["port"].(map[string]any); ok {
			if n, ok := trafficrouting.Int(port["number"]); ok && n > 0 {
				dest["port"] = map[string]any{"number": n}
			}
		}
		entry := map[string]any{"destination": dest}
		if w, _ := trafficrouting.Int(dm["weight"]); w != 0 {
			entry["weight"] = w
		}
		out = append(out, entry)
	}
	return out
}

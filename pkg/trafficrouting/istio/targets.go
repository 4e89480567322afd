package istio

import (
	"fmt"
	"slices"
	"strings"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// httpTargets finds the routes to split among the unmanaged ones: those
// named, or the only one when none is named.
func (s *split) httpTargets(routes []any, names []string) ([]int, error) {
	if len(names) == 0 {
		if len(routes) != 1 {
			return nil, fmt.Errorf("VirtualService %s must have exactly one HTTP route when trafficRouting.istio names no routes, it has %d", s.vsName, len(routes))
		}
		return []int{0}, nil
	}
	var idx []int
	for _, name := range names {
		i := slices.IndexFunc(routes, func(rt any) bool { return routeName(rt) == name })
		if i < 0 {
			return nil, fmt.Errorf("VirtualService %s: HTTP route %q not found", s.vsName, name)
		}
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	return idx, nil
}

// matchPorts collects the distinct ports and SNI hosts of a route's matches.
func matchPorts(rt any) (ports []int64, sni []string) {
	m, _ := rt.(map[string]any)
	matches, _ := m["match"].([]any)
	for _, raw := range matches {
		mm, _ := raw.(map[string]any)
		p, _ := trafficrouting.Int(mm["port"])
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
		hosts, _ := mm["sniHosts"].([]any)
		for _, h := range hosts {
			if hs, ok := h.(string); ok && !slices.Contains(sni, hs) {
				sni = append(sni, hs)
			}
		}
	}
	return ports, sni
}

// portOf is the single port a route matches (0 for none), or false when it
// matches several and so can never equal one configured port.
func portOf(ports []int64) (int64, bool) {
	switch len(ports) {
	case 0:
		return 0, true
	case 1:
		return ports[0], true
	}
	return 0, false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func (s *split) tlsTargets(routes []any, want []v1alpha1.TLSRoute) ([]int, error) {
	if len(want) == 0 {
		return s.onlyRoute(routes, "TLS", "tlsRoutes")
	}
	var idx []int
	for _, w := range want {
		found := false
		for i, rt := range routes {
			ports, sni := matchPorts(rt)
			if p, ok := portOf(ports); ok && p == w.Port && sameSet(sni, w.SNIHosts) {
				found = true
				if !slices.Contains(idx, i) {
					idx = append(idx, i)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("VirtualService %s: no TLS route matches port %d and sniHosts [%s]", s.vsName, w.Port, strings.Join(w.SNIHosts, " "))
		}
	}
	return idx, nil
}

func (s *split) tcpTargets(routes []any, want []v1alpha1.TCPRoute) ([]int, error) {
	if len(want) == 0 {
		return s.onlyRoute(routes, "TCP", "tcpRoutes")
	}
	var idx []int
	for _, w := range want {
		found := false
		for i, rt := range routes {
			ports, _ := matchPorts(rt)
			if p, ok := portOf(ports); ok && p == w.Port {
				found = true
				if !slices.Contains(idx, i) {
					idx = append(idx, i)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("VirtualService %s: no TCP route matches port %d", s.vsName, w.Port)
		}
	}
	return idx, nil
}

func (s *split) onlyRoute(routes []any, kind, field string) ([]int, error) {
	switch len(routes) {
	case 0:
		return nil, nil
	case 1:
		return []int{0}, nil
	}
	return nil, fmt.Errorf("VirtualService %s must have exactly one %s route when trafficRouting.istio names no %s, it has %d", s.vsName, kind, field, len(routes))
}

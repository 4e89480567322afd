package istio

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// split carries what planning one Rollout needs across its VirtualServices.
type split struct {
	d       trafficrouting.Desired
	dr      *v1alpha1.IstioDestinationRule
	drHost  string
	managed []string
	vsName  string
	// rollout is the Rollout's key in the managed-routes record.
	rollout string
}

func (s *split) isManaged(name string) bool {
	return name != "" && slices.Contains(s.managed, name)
}

// target is one route of a VirtualService that carries the split.
type target struct {
	route any
	label string
}

// routes finds the routes of a VirtualService's spec to split: the named (or
// only) HTTP routes among the unmanaged ones, and the TLS and TCP routes the
// Rollout lists. base is the unmanaged HTTP routes (nil without spec.http)
// and first the first HTTP route split, which managed routes copy.
func (s *split) routes(spec map[string]any, vs v1alpha1.IstioVirtualService) (targets []target, base []any, first any, err error) {
	// Named HTTP routes are looked for only where spec.http exists, as Argo
	// Rollouts does: a VirtualService of TLS or TCP routes alone may still
	// list `routes`.
	if routes, ok := spec["http"].([]any); ok {
		base = []any{}
		for _, rt := range routes {
			if !s.isManaged(routeName(rt)) {
				base = append(base, rt)
			}
		}
		idx, err := s.httpTargets(base, vs.Routes)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, i := range idx {
			targets = append(targets, target{base[i], fmt.Sprintf("HTTP route %q", routeName(base[i]))})
		}
		first = base[idx[0]]
	}
	more, err := s.tlsAndTCP(spec, vs)
	return append(targets, more...), base, first, err
}

// tlsAndTCP finds the TLS and TCP routes to split.
func (s *split) tlsAndTCP(spec map[string]any, vs v1alpha1.IstioVirtualService) ([]target, error) {
	var targets []target
	if routes, ok := spec["tls"].([]any); ok {
		idx, err := s.tlsTargets(routes, vs.TLSRoutes)
		if err != nil {
			return nil, err
		}
		for _, i := range idx {
			targets = append(targets, target{routes[i], fmt.Sprintf("TLS route %d", i)})
		}
	} else if len(vs.TLSRoutes) > 0 {
		return nil, fmt.Errorf("VirtualService %s has no TLS routes", s.vsName)
	}
	if routes, ok := spec["tcp"].([]any); ok {
		idx, err := s.tcpTargets(routes, vs.TCPRoutes)
		if err != nil {
			return nil, err
		}
		for _, i := range idx {
			targets = append(targets, target{routes[i], fmt.Sprintf("TCP route %d", i)})
		}
	} else if len(vs.TCPRoutes) > 0 {
		return nil, fmt.Errorf("VirtualService %s has no TCP routes", s.vsName)
	}
	return targets, nil
}

// validateVirtualService checks, without copying obj, that every route to
// split sends to both the stable and the canary.
func (s *split) validateVirtualService(obj *unstructured.Unstructured, vs v1alpha1.IstioVirtualService) error {
	spec, ok := obj.Object["spec"].(map[string]any)
	if !ok {
		return fmt.Errorf("VirtualService %s has no spec", s.vsName)
	}
	targets, _, _, err := s.routes(spec, vs)
	if err != nil {
		return err
	}
	for _, t := range targets {
		m, _ := t.route.(map[string]any)
		dests, _ := m["route"].([]any)
		if err := s.validate(dests, t.label); err != nil {
			return err
		}
	}
	return nil
}

// planVirtualService returns a copy of obj with the split applied and the
// managed routes rebuilt on top of the unmanaged HTTP routes.
func (s *split) planVirtualService(obj *unstructured.Unstructured, vs v1alpha1.IstioVirtualService) (*unstructured.Unstructured, error) {
	out := obj.DeepCopy()
	spec, ok := out.Object["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("VirtualService %s has no spec", s.vsName)
	}
	targets, base, first, err := s.routes(spec, vs)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		if err := s.splitRoute(t.route, t.label); err != nil {
			return nil, err
		}
	}
	if base == nil {
		// Managed routes need HTTP routes to go next to.
		if names := s.activeRouteNames(); len(names) > 0 {
			return nil, fmt.Errorf("VirtualService %s has no HTTP routes to add route %q to", s.vsName, names[0])
		}
		return out, nil
	}
	spec["http"] = append(s.managedRoutes(first), base...)
	recordRoutes(out, s.rollout, s.activeRouteNames())
	return out, nil
}

func routeName(rt any) string {
	m, _ := rt.(map[string]any)
	name, _ := m["name"].(string)
	return name
}

// destination returns the host (up to its first dot) and subset of one
// weighted destination.
func destination(raw any) (m map[string]any, host, subset string) {
	m, _ = raw.(map[string]any)
	dest, _ := m["destination"].(map[string]any)
	full, _ := dest["host"].(string)
	host, _, _ = strings.Cut(full, ".")
	subset, _ = dest["subset"].(string)
	return m, host, subset
}

func (s *split) isCanary(host, subset string) bool {
	if host != "" && host == s.d.CanaryService {
		return true
	}
	return s.dr != nil && subset != "" && subset == s.dr.CanarySubsetName
}

func (s *split) isStable(host, subset string) bool {
	if host != "" && host == s.d.StableService {
		return true
	}
	return s.dr != nil && subset != "" && subset == s.dr.StableSubsetName
}

func (s *split) isAdditionalSubset(subset string) bool {
	return s.dr != nil && subset != "" && slices.Contains(s.dr.AdditionalSubsetNames, subset)
}

// validate checks that a route sends to both the stable and the canary
// (Services, or subsets with a DestinationRule).
func (s *split) validate(dests []any, route string) error {
	var hasStable, hasCanary bool
	for _, raw := range dests {
		_, host, subset := destination(raw)
		if s.dr != nil {
			hasCanary = hasCanary || (subset != "" && subset == s.dr.CanarySubsetName)
			hasStable = hasStable || (subset != "" && subset == s.dr.StableSubsetName)
			continue
		}
		hasCanary = hasCanary || (host != "" && host == s.d.CanaryService)
		hasStable = hasStable || (host != "" && host == s.d.StableService)
	}
	what := func(side, svc, subset string) string {
		if s.dr != nil {
			return fmt.Sprintf("%s DestinationRule subset %q", side, subset)
		}
		return fmt.Sprintf("%s Service %q", side, svc)
	}
	if !hasCanary {
		return fmt.Errorf("VirtualService %s %s: %s not found in route", s.vsName, route, what("canary", s.d.CanaryService, s.canarySubset()))
	}
	if !hasStable {
		return fmt.Errorf("VirtualService %s %s: %s not found in route", s.vsName, route, what("stable", s.d.StableService, s.stableSubset()))
	}
	return nil
}

func (s *split) canarySubset() string {
	if s.dr == nil {
		return ""
	}
	return s.dr.CanarySubsetName
}

func (s *split) stableSubset() string {
	if s.dr == nil {
		return ""
	}
	return s.dr.StableSubsetName
}

func setWeight(m map[string]any, w int64) {
	if cur, ok := trafficrouting.Int(m["weight"]); ok && cur == w {
		return
	}
	if _, present := m["weight"]; !present && w == 0 {
		return
	}
	m["weight"] = w
}

// splitRoute validates one route and sets the weights of its destinations:
// the canary gets the canary weight, experiment Services theirs (added when
// missing), additional subsets keep theirs, the stable gets the rest, and
// other destinations still carrying weight are dropped, as Argo Rollouts
// does once an experiment is over.
func (s *split) splitRoute(rt any, label string) error {
	route, _ := rt.(map[string]any)
	dests, _ := route["route"].([]any)
	if err := s.validate(dests, label); err != nil {
		return err
	}
	stable := int64(s.d.StableWeight())
	for _, raw := range dests {
		if m, _, subset := destination(raw); s.isAdditionalSubset(subset) {
			w, _ := trafficrouting.Int(m["weight"])
			stable -= w
		}
	}
	stable = max(stable, 0)
	pending := map[string]int64{}
	for _, a := range s.d.Additional {
		pending[a.ServiceName] = int64(a.Weight)
	}
	out := make([]any, 0, len(dests)+len(pending))
	for _, raw := range dests {
		m, host, subset := destination(raw)
		if m == nil || host == "" {
			out = append(out, raw)
			continue
		}
		w, isExperiment := pending[host]
		switch {
		case s.isCanary(host, subset):
			setWeight(m, int64(s.d.CanaryWeight))
		case s.isStable(host, subset):
			setWeight(m, stable)
		case isExperiment:
			setWeight(m, w)
			delete(pending, host)
		case s.isAdditionalSubset(subset):
		default:
			if w, _ := trafficrouting.Int(m["weight"]); w != 0 {
				continue
			}
		}
		out = append(out, m)
	}
	hosts := make([]string, 0, len(pending))
	for h := range pending {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		out = append(out, map[string]any{"destination": map[string]any{"host": h}, "weight": pending[h]})
	}
	route["route"] = out
	return nil
}

// read returns the weights of the first route the VirtualService splits.
func (s *split) read(obj *unstructured.Unstructured, vs v1alpha1.IstioVirtualService) (*v1alpha1.TrafficWeights, error) {
	spec, _ := obj.Object["spec"].(map[string]any)
	var route any
	if routes, ok := spec["http"].([]any); ok {
		var base []any
		for _, rt := range routes {
			if !s.isManaged(routeName(rt)) {
				base = append(base, rt)
			}
		}
		if idx, err := s.httpTargets(base, vs.Routes); err == nil {
			route = base[idx[0]]
		}
	}
	if routes, ok := spec["tls"].([]any); ok && route == nil {
		if idx, err := s.tlsTargets(routes, vs.TLSRoutes); err == nil && len(idx) > 0 {
			route = routes[idx[0]]
		}
	}
	if routes, ok := spec["tcp"].([]any); ok && route == nil {
		if idx, err := s.tcpTargets(routes, vs.TCPRoutes); err == nil && len(idx) > 0 {
			route = routes[idx[0]]
		}
	}
	if route == nil {
		return nil, fmt.Errorf("VirtualService %s has no route to read weights from", s.vsName)
	}
	tw := &v1alpha1.TrafficWeights{
		Canary: v1alpha1.WeightDestination{ServiceName: s.d.CanaryService, PodTemplateHash: s.d.CanaryHash},
		Stable: v1alpha1.WeightDestination{ServiceName: s.d.StableService, PodTemplateHash: s.d.StableHash},
	}
	m, _ := route.(map[string]any)
	dests, _ := m["route"].([]any)
	for _, raw := range dests {
		dm, host, subset := destination(raw)
		w, _ := trafficrouting.Int(dm["weight"])
		switch {
		case s.isCanary(host, subset):
			tw.Canary.Weight = int32(w)
		case s.isStable(host, subset):
			tw.Stable.Weight = int32(w)
		default:
			for _, a := range s.d.Additional {
				if a.ServiceName == host {
					tw.Additional = append(tw.Additional, v1alpha1.WeightDestination{Weight: int32(w), ServiceName: host, PodTemplateHash: a.PodTemplateHash})
				}
			}
		}
	}
	return tw, nil
}

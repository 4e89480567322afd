package gatewayapi

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// planner plans the routes of one Rollout.
type planner struct {
	cfg     *pluginConfig
	d       trafficrouting.Desired
	managed []string
	// mirrors are the names of the Rollout's mirror routes.
	mirrors map[string]bool
}

func backendRefs(rule map[string]any) []map[string]any {
	refs, _ := rule["backendRefs"].([]any)
	out := make([]map[string]any, 0, len(refs))
	for _, raw := range refs {
		if m, ok := raw.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// managedName reports whether a rule name is one this router gives header
// rules: a managed route's name, or that name followed by "-<n>".
func (p *planner) managedName(name string) bool {
	for _, m := range p.managed {
		if name == m {
			return true
		}
		if rest, ok := strings.CutPrefix(name, m+"-"); ok {
			if _, err := strconv.Atoi(rest); err == nil {
				return true
			}
		}
	}
	return false
}

// isManagedRule tells header rules from the user's: by name, or, for an
// unnamed rule, by its single backendRef to the canary Service.
func (p *planner) isManagedRule(rule map[string]any) bool {
	if name, ok := rule["name"].(string); ok && name != "" {
		return p.managedName(name)
	}
	refs := backendRefs(rule)
	return len(refs) == 1 && refs[0]["name"] == p.d.CanaryService
}

// check tells whether the route's rules send to both the canary and the
// stable Service, without changing anything.
func (p *planner) check(obj *unstructured.Unstructured, t target) error {
	rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "rules")
	var canaryFound, stableFound bool
	for _, raw := range rules {
		rule, ok := raw.(map[string]any)
		if !ok || (t.kind.headers && p.isManagedRule(rule)) {
			continue
		}
		for _, b := range backendRefs(rule) {
			canaryFound = canaryFound || b["name"] == p.d.CanaryService
			stableFound = stableFound || b["name"] == p.d.StableService
		}
	}
	if !canaryFound {
		return fmt.Errorf("no backendRef to the canary Service %q", p.d.CanaryService)
	}
	if !stableFound {
		return fmt.Errorf("no backendRef to the stable Service %q", p.d.StableService)
	}
	return nil
}

// plan returns a copy of the route with weights set, header rules rebuilt
// (for routes that take them) and the in-progress label in place.
func (p *planner) plan(obj *unstructured.Unstructured, t target) (*unstructured.Unstructured, error) {
	if err := p.check(obj, t); err != nil {
		return nil, err
	}
	out := obj.DeepCopy()
	spec, _ := out.Object["spec"].(map[string]any)
	rules, _ := spec["rules"].([]any)
	stable := int64(p.d.StableWeight())
	var own, sources []any
	for _, raw := range rules {
		rule, ok := raw.(map[string]any)
		if !ok {
			own = append(own, raw)
			continue
		}
		if t.kind.headers && p.isManagedRule(rule) {
			if !t.ref.UseHeaderRoutes && !(t.kind == httpKind && p.isMirrorRule(rule)) {
				own = append(own, rule)
			}
			continue
		}
		hasCanary, hasStable := false, false
		for _, b := range backendRefs(rule) {
			switch b["name"] {
			case p.d.CanaryService:
				b["weight"] = int64(p.d.CanaryWeight)
				hasCanary = true
			case p.d.StableService:
				b["weight"] = stable
				hasStable = true
			}
		}
		if hasCanary && hasStable {
			p.experimentBackends(rule)
			sources = append(sources, rule)
		}
		own = append(own, rule)
	}
	if t.kind.headers && t.ref.UseHeaderRoutes {
		headerRules, err := p.headerRules(sources, t.kind)
		if err != nil {
			return nil, err
		}
		own = append(own, headerRules...)
	}
	if t.kind == httpKind {
		mirrorRules, err := p.mirrorRules(sources)
		if err != nil {
			return nil, err
		}
		own = append(own, mirrorRules...)
	}
	if spec != nil {
		spec["rules"] = own
	}
	p.label(out)
	return out, nil
}

// label adds the in-progress label while the canary has weight and removes
// it otherwise.
func (p *planner) label(u *unstructured.Unstructured) {
	if p.cfg.DisableInProgressLabel {
		return
	}
	labels := u.GetLabels()
	key := p.cfg.labelKey()
	if p.d.CanaryWeight == 0 {
		if _, ok := labels[key]; ok {
			delete(labels, key)
			if len(labels) == 0 {
				labels = nil
			}
			u.SetLabels(labels)
		}
		return
	}
	if labels == nil {
		labels = map[string]string{}
	}
	labels[key] = p.cfg.labelValue()
	u.SetLabels(labels)
}

// activeHeaderRoutes lists the header routes in force, in the order of
// trafficRouting.managedRoutes.
func (p *planner) activeHeaderRoutes() []v1alpha1.SetHeaderRoute {
	var out []v1alpha1.SetHeaderRoute
	for _, name := range p.managed {
		for _, h := range p.d.HeaderRoutes {
			if h.Name == name && len(h.Match) > 0 {
				out = append(out, h)
				break
			}
		}
	}
	for _, h := range p.d.HeaderRoutes {
		if len(h.Match) > 0 && !slices.Contains(p.managed, h.Name) {
			out = append(out, h)
		}
	}
	return out
}

// headerMatches turns a header route's conditions into Gateway API header
// matches; a prefix becomes "<prefix>.*" as a regular expression, as the
// plugin writes it.
func headerMatches(h v1alpha1.SetHeaderRoute) ([]any, error) {
	out := make([]any, 0, len(h.Match))
	for _, m := range h.Match {
		v := m.HeaderValue
		match := map[string]any{"name": m.HeaderName}
		switch {
		case v == nil:
			return nil, fmt.Errorf("header route %q: header %q has no value to match", h.Name, m.HeaderName)
		case v.Exact != "":
			match["type"], match["value"] = "Exact", v.Exact
		case v.Prefix != "":
			match["type"], match["value"] = "RegularExpression", v.Prefix+".*"
		case v.Regex != "":
			match["type"], match["value"] = "RegularExpression", v.Regex
		default:
			return nil, fmt.Errorf("header route %q: header %q has no value to match", h.Name, m.HeaderName)
		}
		out = append(out, match)
	}
	return out, nil
}

// headerRules builds, for every header route in force and every rule that
// sends to both Services, a rule with the same matches (plus the headers)
// and filters that sends everything to the canary.
func (p *planner) headerRules(sources []any, k kind) ([]any, error) {
	active := p.activeHeaderRoutes()
	if len(active) > 0 && len(sources) == 0 {
		return nil, fmt.Errorf("no rule sends to both %q and %q to copy header route %q from", p.d.StableService, p.d.CanaryService, active[0].Name)
	}
	var out []any
	for _, h := range active {
		headers, err := headerMatches(h)
		if err != nil {
			return nil, err
		}
		for i, raw := range sources {
			src := raw.(map[string]any)
			name := h.Name
			if i > 0 {
				name = fmt.Sprintf("%s-%d", h.Name, i)
			}
			rule := map[string]any{
				"name":        name,
				"matches":     copyMatches(src, headers, k),
				"backendRefs": []any{canaryRef(src, p.d.CanaryService)},
			}
			if filters, ok := src["filters"].([]any); ok && len(filters) > 0 {
				rule["filters"] = runtime.DeepCopyJSONValue(filters)
			}
			out = append(out, rule)
		}
	}
	return out, nil
}

// copyMatches repeats each match of the source rule with the headers added
// (one match of just the headers when the rule has none).
func copyMatches(src map[string]any, headers []any, k kind) []any {
	matches, _ := src["matches"].([]any)
	if len(matches) == 0 {
		return []any{map[string]any{"headers": runtime.DeepCopyJSONValue(headers)}}
	}
	keep := []string{"path", "queryParams", "method"}
	if k.grpc {
		keep = []string{"method"}
	}
	out := make([]any, 0, len(matches))
	for _, raw := range matches {
		m, _ := raw.(map[string]any)
		copied := map[string]any{}
		for _, f := range keep {
			if v, ok := m[f]; ok {
				copied[f] = runtime.DeepCopyJSONValue(v)
			}
		}
		merged, _ := runtime.DeepCopyJSONValue(m["headers"]).([]any)
		copied["headers"] = append(merged, runtime.DeepCopyJSONValue(headers).([]any)...)
		out = append(out, copied)
	}
	return out
}

// canaryRef points at the canary Service on the port the source rule uses.
func canaryRef(src map[string]any, canary string) map[string]any {
	ref := map[string]any{"group": "", "kind": "Service", "name": canary}
	for _, b := range backendRefs(src) {
		if b["name"] == canary {
			if port, ok := b["port"]; ok {
				ref["port"] = port
			}
			break
		}
	}
	return ref
}

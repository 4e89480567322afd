package gatewayapi

import "slices"

// experimentBackends gives a rule that splits between the stable and the
// canary Service a backendRef per experiment destination, with its weight,
// and drops those of the experiment destinations the router carried before
// and no longer should. Other backendRefs are the user's and stay.
func (p *planner) experimentBackends(rule map[string]any) {
	want := map[string]int64{}
	for _, a := range p.d.Additional {
		want[a.ServiceName] = int64(a.Weight)
	}
	previous := map[string]bool{}
	for _, a := range p.d.PreviousAdditional {
		previous[a.ServiceName] = true
	}
	refs, _ := rule["backendRefs"].([]any)
	out := make([]any, 0, len(refs)+len(want))
	for _, raw := range refs {
		b, ok := raw.(map[string]any)
		if !ok {
			out = append(out, raw)
			continue
		}
		name, _ := b["name"].(string)
		if w, isExperiment := want[name]; isExperiment {
			b["weight"] = w
			delete(want, name)
		} else if previous[name] {
			continue
		}
		out = append(out, b)
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ref := map[string]any{"group": "", "kind": "Service", "name": name, "weight": want[name]}
		if port, ok := p.d.AdditionalPorts[name]; ok {
			ref["port"] = int64(port)
		}
		out = append(out, ref)
	}
	rule["backendRefs"] = out
}

package gatewayapi

import (
	"encoding/json"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Route selectors (httpRouteSelector, grpcRouteSelector, tcpRouteSelector,
// tlsRouteSelector) add, as the plugin does, every route of their kind in
// the configured namespace whose labels match, as a route that takes no
// header routes. A route both named and selected is taken once, as named.

// parseSelectors reads the four selectors into c.selectors.
func (c *pluginConfig) parseSelectors() error {
	c.selectors = map[kind]string{}
	for _, s := range []struct {
		k     kind
		field string
		raw   json.RawMessage
	}{{httpKind, "httpRouteSelector", c.HTTPRouteSelector}, {grpcKind, "grpcRouteSelector", c.GRPCRouteSelector},
		{tcpKind, "tcpRouteSelector", c.TCPRouteSelector}, {tlsKind, "tlsRouteSelector", c.TLSRouteSelector}} {
		if len(s.raw) == 0 || string(s.raw) == "null" {
			continue
		}
		ls := &metav1.LabelSelector{}
		if err := json.Unmarshal(s.raw, ls); err != nil {
			return fmt.Errorf("trafficRouting.plugins[%q].%s: %v", PluginName, s.field, err)
		}
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			return fmt.Errorf("trafficRouting.plugins[%q].%s: %v", PluginName, s.field, err)
		}
		c.selectors[s.k] = sel.String()
	}
	return nil
}

// selectorRefs are the references standing for the selected routes.
func (r *Router) selectorRefs(cfg *pluginConfig) []trafficrouting.Ref {
	var out []trafficrouting.Ref
	for _, k := range []kind{httpKind, grpcKind, tcpKind, tlsKind} {
		if sel, ok := cfg.selectors[k]; ok {
			out = append(out, trafficrouting.Ref{Resource: r.gvr(k), Namespace: cfg.Namespace, Selector: sel})
		}
	}
	return out
}

// selected lists, for each selector, the observed routes it matches that
// are not named already, sorted by kind then name.
func (r *Router) selected(cfg *pluginConfig, named []target, observed map[trafficrouting.Ref]*unstructured.Unstructured) []target {
	taken := map[trafficrouting.Ref]bool{}
	for _, t := range named {
		taken[r.ref(cfg, t)] = true
	}
	var out []target
	for _, k := range []kind{httpKind, grpcKind, tcpKind, tlsKind} {
		s, ok := cfg.selectors[k]
		if !ok {
			continue
		}
		sel, err := labels.Parse(s)
		if err != nil {
			continue
		}
		var names []string
		for ref, obj := range observed {
			if ref.Resource == r.gvr(k) && ref.Namespace == cfg.Namespace && ref.Name != "" && !taken[ref] &&
				sel.Matches(labels.Set(obj.GetLabels())) {
				names = append(names, ref.Name)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, target{kind: k, ref: routeRef{Name: n}})
		}
	}
	return out
}

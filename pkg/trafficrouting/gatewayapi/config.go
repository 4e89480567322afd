package gatewayapi

import (
	"encoding/json"
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// PluginName is the key of trafficRouting.plugins whose configuration this
// router reads, the one of the Argo Rollouts Gateway API plugin.
const PluginName = "argoproj-labs/gatewayAPI"

// The label put on routes while a canary has weight, unless disabled, so
// that tools such as Argo CD can ignore them meanwhile.
const (
	DefaultInProgressLabelKey   = "rollouts.argoproj.io/gatewayapi-canary"
	DefaultInProgressLabelValue = "in-progress"
)

// routeRef names one route and whether header routes go into it.
type routeRef struct {
	Name            string `json:"name"`
	UseHeaderRoutes bool   `json:"useHeaderRoutes,omitempty"`
}

// pluginConfig is the plugin's configuration, with its field names.
type pluginConfig struct {
	HTTPRoute              string          `json:"httpRoute,omitempty"`
	GRPCRoute              string          `json:"grpcRoute,omitempty"`
	TCPRoute               string          `json:"tcpRoute,omitempty"`
	TLSRoute               string          `json:"tlsRoute,omitempty"`
	Namespace              string          `json:"namespace,omitempty"`
	HTTPRoutes             []routeRef      `json:"httpRoutes,omitempty"`
	GRPCRoutes             []routeRef      `json:"grpcRoutes,omitempty"`
	TCPRoutes              []routeRef      `json:"tcpRoutes,omitempty"`
	TLSRoutes              []routeRef      `json:"tlsRoutes,omitempty"`
	HTTPRouteSelector      json.RawMessage `json:"httpRouteSelector,omitempty"`
	GRPCRouteSelector      json.RawMessage `json:"grpcRouteSelector,omitempty"`
	TCPRouteSelector       json.RawMessage `json:"tcpRouteSelector,omitempty"`
	TLSRouteSelector       json.RawMessage `json:"tlsRouteSelector,omitempty"`
	DisableInProgressLabel bool            `json:"disableInProgressLabel,omitempty"`
	InProgressLabelKey     string          `json:"inProgressLabelKey,omitempty"`
	InProgressLabelValue   string          `json:"inProgressLabelValue,omitempty"`

	// selectors are the route selectors, as label selector strings, by
	// route kind.
	selectors map[kind]string
}

// Enabled reports whether the Rollout configures the Gateway API plugin.
func Enabled(ro *v1alpha1.Rollout) bool {
	tr := trafficrouting.Routing(ro)
	if tr == nil {
		return false
	}
	_, ok := tr.Plugins[PluginName]
	return ok
}

// parse reads the plugin configuration. The single-route fields become
// list entries that take header routes, as the plugin does; the namespace
// defaults to the Rollout's.
func parse(ro *v1alpha1.Rollout) (*pluginConfig, error) {
	tr := trafficrouting.Routing(ro)
	if tr == nil {
		return nil, nil
	}
	raw, ok := tr.Plugins[PluginName]
	if !ok {
		return nil, nil
	}
	cfg := &pluginConfig{}
	if err := json.Unmarshal(raw, cfg); err != nil {
		return nil, fmt.Errorf("trafficRouting.plugins[%q]: %v", PluginName, err)
	}
	if cfg.Namespace == "" {
		cfg.Namespace = ro.Namespace
	}
	add := func(list []routeRef, name string) []routeRef {
		if name != "" {
			list = append(list, routeRef{Name: name, UseHeaderRoutes: true})
		}
		return list
	}
	cfg.HTTPRoutes = add(cfg.HTTPRoutes, cfg.HTTPRoute)
	cfg.GRPCRoutes = add(cfg.GRPCRoutes, cfg.GRPCRoute)
	cfg.TCPRoutes = add(cfg.TCPRoutes, cfg.TCPRoute)
	cfg.TLSRoutes = add(cfg.TLSRoutes, cfg.TLSRoute)
	if err := cfg.parseSelectors(); err != nil {
		return nil, err
	}
	for _, list := range [][]routeRef{cfg.HTTPRoutes, cfg.GRPCRoutes, cfg.TCPRoutes, cfg.TLSRoutes} {
		for _, r := range list {
			if r.Name == "" {
				return nil, fmt.Errorf("trafficRouting.plugins[%q]: a route has no name", PluginName)
			}
		}
	}
	if len(cfg.HTTPRoutes)+len(cfg.GRPCRoutes)+len(cfg.TCPRoutes)+len(cfg.TLSRoutes)+len(cfg.selectors) == 0 {
		return nil, fmt.Errorf("trafficRouting.plugins[%q]: no routes configured; set httpRoute(s), grpcRoute(s), tcpRoute(s), tlsRoute(s) or a route selector", PluginName)
	}
	return cfg, nil
}

func (c *pluginConfig) labelKey() string {
	if c.InProgressLabelKey != "" {
		return c.InProgressLabelKey
	}
	return DefaultInProgressLabelKey
}

func (c *pluginConfig) labelValue() string {
	if c.InProgressLabelValue != "" {
		return c.InProgressLabelValue
	}
	return DefaultInProgressLabelValue
}

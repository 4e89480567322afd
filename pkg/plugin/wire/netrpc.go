package wire

import (
	"context"
	"net/rpc"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/serin-dev/serin/pkg/plugin/config"
)

// Caller makes one call to one plugin. The host implements it: reply is
// written only when the call succeeds, and ctx bounds how long the caller
// waits.
type Caller interface {
	Call(ctx context.Context, method string, args, reply any) error
}

// NetRPC adapts net/rpc to go-plugin. On the controller side its Client is
// the raw *rpc.Client; on the plugin side Server is what it serves (a
// value whose methods follow net/rpc's rules, such as MetricServer).
type NetRPC struct {
	Impl any
}

var _ goplugin.Plugin = NetRPC{}

// Server returns the value to serve.
func (p NetRPC) Server(*goplugin.MuxBroker) (any, error) { return p.Impl, nil }

// Client returns the connection itself.
func (NetRPC) Client(_ *goplugin.MuxBroker, c *rpc.Client) (any, error) { return c, nil }

// PluginSet is the go-plugin plugin set of a kind: one plugin, under the
// name Argo Rollouts dispenses it by, serving server (nil on the
// controller side).
func PluginSet(kind config.Kind, server any) goplugin.PluginSet {
	return goplugin.PluginSet{DispenseNames[kind]: NetRPC{Impl: server}}
}

// Method names all kinds share.
const (
	MethodInitPlugin = "Plugin.InitPlugin"
	MethodType       = "Plugin.Type"
)

// Init calls a plugin's InitPlugin.
func Init(ctx context.Context, c Caller) error {
	var resp RpcError
	if err := c.Call(ctx, MethodInitPlugin, new(any), &resp); err != nil {
		return err
	}
	return resp.Err()
}

// Type asks a plugin for its type.
func Type(ctx context.Context, c Caller) (string, error) {
	var resp string
	err := c.Call(ctx, MethodType, new(any), &resp)
	return resp, err
}

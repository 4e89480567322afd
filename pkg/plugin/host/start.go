package host

import (
	"context"
	"fmt"
	"net/rpc"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/serin-dev/serin/pkg/plugin/wire"
)

// connect returns the connection to a running, initialised process of the
// plugin, starting one when there is none or the last one died.
func (h *Host) connect(ctx context.Context, key procKey) (*rpc.Client, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrShutdown
	}
	p := h.procs[key]
	if p == nil {
		p = &proc{slot: make(chan struct{}, 1)}
		h.procs[key] = p
	}
	if p.conn != nil && !p.client.Exited() {
		conn := p.conn
		h.mu.Unlock()
		return conn, nil
	}
	h.mu.Unlock()

	select {
	case p.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s plugin %s did not start in time: %w", key.kind, key.name, ctx.Err())
	}
	defer func() { <-p.slot }()
	return h.startLocked(ctx, key, p)
}

// startLocked starts the plugin's process unless another caller did while
// this one waited for the slot. The caller holds p.slot.
func (h *Host) startLocked(ctx context.Context, key procKey, p *proc) (*rpc.Client, error) {
	h.mu.Lock()
	old := p.client
	if p.conn != nil && !old.Exited() {
		conn := p.conn
		h.mu.Unlock()
		return conn, nil
	}
	p.client, p.conn = nil, nil
	h.mu.Unlock()
	logger := h.o.Logger.WithValues("plugin", key.name, "kind", key.kind)
	if old != nil {
		logger.Info("Plugin process has exited; starting it again")
		old.Kill()
	}
	b, err := h.binary(key)
	if err != nil {
		return nil, err
	}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  wire.Handshake(key.kind),
		Plugins:          wire.PluginSet(key.kind, nil),
		Cmd:              command(b),
		SecureConfig:     secure(b),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolNetRPC},
		StartTimeout:     h.start,
		Logger:           hclogTo(logger),
		Stderr:           lineWriter{logger: logger.V(1)},
	})
	conn, err := h.handshake(ctx, key, client)
	if err != nil {
		client.Kill()
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		go client.Kill()
		return nil, ErrShutdown
	}
	p.client, p.conn = client, conn
	logger.Info("Plugin started")
	return conn, nil
}

// handshake starts the process, dispenses the plugin and calls InitPlugin.
func (h *Host) handshake(ctx context.Context, key procKey, client *goplugin.Client) (*rpc.Client, error) {
	proto, err := client.Client()
	if err != nil {
		return nil, fmt.Errorf("starting %s plugin %s: %w", key.kind, key.name, err)
	}
	raw, err := proto.Dispense(wire.DispenseNames[key.kind])
	if err != nil {
		return nil, fmt.Errorf("dispensing %s plugin %s: %w", key.kind, key.name, err)
	}
	conn, ok := raw.(*rpc.Client)
	if !ok {
		return nil, fmt.Errorf("%s plugin %s: unexpected client %T", key.kind, key.name, raw)
	}
	if err := wire.Init(ctx, connCaller{conn}); err != nil {
		return nil, fmt.Errorf("initialising %s plugin %s: %w", key.kind, key.name, err)
	}
	return conn, nil
}

// forget drops a connection that failed, so that the next call starts the
// plugin again.
func (h *Host) forget(key procKey, conn *rpc.Client) {
	h.mu.Lock()
	p := h.procs[key]
	var dead *goplugin.Client
	if p != nil && p.conn == conn {
		dead, p.client, p.conn = p.client, nil, nil
	}
	h.mu.Unlock()
	if dead != nil {
		go dead.Kill()
	}
}

func hclogTo(logger interface{ Info(string, ...any) }) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "go-plugin", Level: hclog.Info, Output: lineWriter{logger: logger}})
}

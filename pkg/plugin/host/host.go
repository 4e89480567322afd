// Package host runs plugin binaries: one process per configured plugin,
// started over hashicorp/go-plugin on first use, initialised once with
// InitPlugin, started again when it has died, and killed on Shutdown.
//
// Every call is bounded by a deadline. A plugin that hangs costs each of
// its callers that deadline and nothing more: no lock is held while a call
// is in flight, and a caller waiting for a plugin to start gives up at its
// own deadline.
package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/rpc"
	"os/exec"
	"sync"
	"syscall"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/install"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

// Defaults for Options left zero.
const (
	DefaultCallTimeout  = 30 * time.Second
	DefaultStartTimeout = time.Minute
)

// Locator finds the installed binary of a plugin.
type Locator interface {
	Find(kind config.Kind, name string) (install.Binary, bool)
}

// Options configure a Host.
type Options struct {
	// Plugins are the installed binaries.
	Plugins Locator
	// CallTimeout bounds every call, InitPlugin included, and how long a
	// caller waits for a process another caller is starting; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// StartTimeout bounds the start of a process, up to its handshake;
	// 0 means DefaultStartTimeout.
	StartTimeout time.Duration
	// Logger receives the processes' lifecycle and their stderr.
	Logger klog.Logger
}

// Host owns the plugin processes.
type Host struct {
	o       Options
	timeout time.Duration
	start   time.Duration

	mu     sync.Mutex // guards procs, closed and every proc's client and conn
	procs  map[procKey]*proc
	closed bool
}

type procKey struct {
	kind config.Kind
	name string
}

// proc is one plugin's process. slot is held by whoever starts it, so that
// it starts once; client and conn are read and written under Host.mu.
type proc struct {
	slot   chan struct{}
	client *goplugin.Client
	conn   *rpc.Client
}

// New returns a Host that starts nothing until a plugin is first called.
func New(o Options) *Host {
	timeout := o.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	start := o.StartTimeout
	if start <= 0 {
		start = DefaultStartTimeout
	}
	return &Host{o: o, timeout: timeout, start: start, procs: map[procKey]*proc{}}
}

// Plugin returns the Caller of the plugin of kind named name. It starts
// nothing: the process starts on the first call. A plugin that is not
// configured, or whose binary failed to install, fails every call with an
// error that says so.
func (h *Host) Plugin(kind config.Kind, name string) wire.Caller {
	return caller{h: h, key: procKey{kind: kind, name: name}}
}

// Lookup returns the configured plugin of kind named name: its item
// (Disabled, Args, ...) and, in Err, why its binary cannot run. It is
// false when no such plugin is configured. It starts nothing.
func (h *Host) Lookup(kind config.Kind, name string) (install.Binary, bool) {
	if h.o.Plugins == nil {
		return install.Binary{}, false
	}
	return h.o.Plugins.Find(kind, name)
}

// Timeout is the deadline each call gets.
func (h *Host) Timeout() time.Duration { return h.timeout }

// Shutdown kills every plugin process; later calls fail.
func (h *Host) Shutdown() {
	h.mu.Lock()
	h.closed = true
	var clients []*goplugin.Client
	for _, p := range h.procs {
		if p.client != nil {
			clients = append(clients, p.client)
		}
		p.client, p.conn = nil, nil
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(c.Kill)
	}
	wg.Wait()
}

// Kill sends SIGKILL to every plugin process and returns at once, for a
// controller about to exit without its deferred clean-up (a lost Lease);
// later calls fail.
func (h *Host) Kill() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, p := range h.procs {
		if p.client == nil {
			continue
		}
		if rc := p.client.ReattachConfig(); rc != nil && rc.Pid > 0 {
			_ = syscall.Kill(rc.Pid, syscall.SIGKILL)
		}
	}
}

// ErrShutdown is returned by calls after Shutdown or Kill.
var ErrShutdown = errors.New("the controller is shutting down")

// caller is the wire.Caller of one plugin.
type caller struct {
	h   *Host
	key procKey
}

// Call makes one call under the host's deadline (or ctx's, if sooner).
func (c caller) Call(ctx context.Context, method string, args, reply any) error {
	ctx, cancel := context.WithTimeout(ctx, c.h.timeout)
	defer cancel()
	conn, err := c.h.connect(ctx, c.key)
	if err != nil {
		return err
	}
	err = callConn(ctx, conn, method, args, reply)
	if errors.Is(err, rpc.ErrShutdown) || errors.Is(err, io.ErrUnexpectedEOF) {
		c.h.forget(c.key, conn)
	}
	if err != nil {
		return fmt.Errorf("%s plugin %s: %w", c.key.kind, c.key.name, err)
	}
	return nil
}

// binary returns the path, arguments and expected sha256 of a plugin.
func (h *Host) binary(key procKey) (install.Binary, error) {
	if h.o.Plugins == nil {
		return install.Binary{}, notConfigured(key)
	}
	b, ok := h.o.Plugins.Find(key.kind, key.name)
	if !ok {
		return install.Binary{}, notConfigured(key)
	}
	if b.Err != nil {
		return install.Binary{}, fmt.Errorf("%s plugin %s is not usable: %w", key.kind, key.name, b.Err)
	}
	return b, nil
}

func notConfigured(key procKey) error {
	return fmt.Errorf("%s plugin %s is not configured in ConfigMap %s", key.kind, key.name, config.ConfigMapName)
}

// secure makes go-plugin check the binary's sha256 before each start, so
// that a binary changed on disk after installation does not run.
func secure(b install.Binary) *goplugin.SecureConfig {
	sum, err := hex.DecodeString(b.Item.Sha256)
	if err != nil || len(sum) != sha256.Size {
		return nil
	}
	return &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
}

// command is the plugin's process.
func command(b install.Binary) *exec.Cmd {
	return exec.Command(b.Path, b.Item.Args...)
}

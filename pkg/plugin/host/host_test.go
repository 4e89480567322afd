package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/install"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

// TestMain turns the test binary into a metric plugin when the host starts
// it (go-plugin sets the handshake cookie in its environment).
func TestMain(m *testing.M) {
	if os.Getenv(wire.Handshake(config.KindMetricProvider).MagicCookieKey) != "" {
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig: wire.Handshake(config.KindMetricProvider),
			Plugins:         wire.PluginSet(config.KindMetricProvider, &wire.MetricServer{Impl: &testPlugin{}}),
		})
		return
	}
	os.Exit(m.Run())
}

// testPlugin answers "pid/inits"; a metric named "hang" never answers and
// one named "die" kills the process.
type testPlugin struct {
	mu    sync.Mutex
	inits int
}

func (p *testPlugin) InitPlugin() wire.RpcError {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inits++
	return wire.RpcError{}
}

func (p *testPlugin) Run(_ *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	switch m.Name {
	case "hang":
		select {}
	case "die":
		os.Exit(3)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: fmt.Sprintf("%d/%d", os.Getpid(), p.inits)}
}

func (p *testPlugin) Resume(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

func (p *testPlugin) Terminate(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

func (p *testPlugin) GarbageCollect(*v1alpha1.AnalysisRun, v1alpha1.Metric, int) wire.RpcError {
	return wire.RpcError{}
}

func (p *testPlugin) Type() string { return "Test" }

func (p *testPlugin) GetMetadata(v1alpha1.Metric) map[string]string { return nil }

const plugin = "acme/test"

func newHost(t *testing.T, timeout time.Duration, extra ...install.Binary) *Host {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bins := append(install.Installed{{Item: config.Item{Name: plugin, Kind: config.KindMetricProvider}, Path: self}}, extra...)
	h := New(Options{Plugins: bins, CallTimeout: timeout, Logger: klog.Background()})
	t.Cleanup(h.Shutdown)
	return h
}

func measure(h *Host, ctx context.Context, metric string) (v1alpha1.Measurement, error) {
	c := wire.MetricClient{C: h.Plugin(config.KindMetricProvider, plugin)}
	return c.Run(ctx, &v1alpha1.AnalysisRun{}, v1alpha1.Metric{Name: metric})
}

func TestOneProcessStartsOnFirstUseAndIsInitialisedOnce(t *testing.T) {
	h := newHost(t, 20*time.Second)
	first, err := measure(h, context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	second, err := measure(h, context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	if first.Value != second.Value || !strings.HasSuffix(first.Value, "/1") {
		t.Errorf("first %q, second %q: want one process, initialised once", first.Value, second.Value)
	}
}

func TestAHungCallFailsAtTheDeadlineAndBlocksNoOtherCall(t *testing.T) {
	h := newHost(t, 3*time.Second)
	if _, err := measure(h, context.Background(), "warm-up"); err != nil {
		t.Fatal(err)
	}
	hung := make(chan error, 1)
	go func() {
		_, err := measure(h, context.Background(), "hang")
		hung <- err
	}()
	// While the hung call waits, other calls to the same plugin answer.
	for i := range 5 {
		if _, err := measure(h, context.Background(), fmt.Sprintf("m%d", i)); err != nil {
			t.Fatalf("a call next to a hung one: %v", err)
		}
	}
	err := <-hung
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), plugin) || !strings.Contains(err.Error(), "Plugin.Run") {
		t.Fatalf("hung call: %v", err)
	}
}

func TestAPluginThatDiedIsStartedAgain(t *testing.T) {
	h := newHost(t, 20*time.Second)
	before, err := measure(h, context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := measure(h, context.Background(), "die"); err == nil {
		t.Fatal("a call whose plugin died succeeded")
	}
	after, err := measure(h, context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if after.Value == before.Value || !strings.HasSuffix(after.Value, "/1") {
		t.Errorf("before %q, after %q: want a new process, initialised", before.Value, after.Value)
	}
}

func TestShutdownKillsTheProcessAndFailsLaterCalls(t *testing.T) {
	h := newHost(t, 20*time.Second)
	m, err := measure(h, context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscanf(m.Value, "%d/", &pid); err != nil {
		t.Fatal(err)
	}
	h.Shutdown()
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("plugin process %d is still running", pid)
	}
	if _, err := measure(h, context.Background(), "a"); !errors.Is(err, ErrShutdown) {
		t.Errorf("call after Shutdown: %v", err)
	}
}

func TestPluginsThatCannotRunFailEveryCallWithTheirReason(t *testing.T) {
	broken := install.Binary{Item: config.Item{Name: "acme/broken", Kind: config.KindStep}, Err: errors.New("sha256 of x is 00, want ff")}
	h := newHost(t, time.Second, broken)
	_, err := wire.StepClient{C: h.Plugin(config.KindStep, "acme/broken")}.Run(context.Background(), &v1alpha1.Rollout{}, &wire.RpcStepContext{})
	if err == nil || !strings.Contains(err.Error(), "acme/broken") || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("broken plugin: %v", err)
	}
	err = wire.RouterClient{C: h.Plugin(config.KindTrafficRouter, plugin)}.SetWeight(context.Background(), &v1alpha1.Rollout{}, 10, nil)
	if err == nil || !strings.Contains(err.Error(), "not configured") || !strings.Contains(err.Error(), config.ConfigMapName) {
		t.Errorf("a metric plugin called as a router: %v", err)
	}
}

func TestKillEndsTheProcessAtOnceAndFailsLaterCalls(t *testing.T) {
	h := newHost(t, 20*time.Second)
	if _, err := measure(h, context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	client := h.procs[procKey{config.KindMetricProvider, plugin}].client
	h.mu.Unlock()
	h.Kill()
	// The process was sent SIGKILL; wait for go-plugin to see it exit.
	for !client.Exited() {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := measure(h, context.Background(), "a"); !errors.Is(err, ErrShutdown) {
		t.Errorf("call after Kill: %v", err)
	}
}

func TestLookupTellsConfiguredDisabledAndBrokenPluginsApart(t *testing.T) {
	disabled := install.Binary{Item: config.Item{Name: "acme/skip", Kind: config.KindStep, Disabled: true}, Path: "/bin/true"}
	broken := install.Binary{Item: config.Item{Name: "acme/broken", Kind: config.KindTrafficRouter}, Err: errors.New("download failed")}
	h := newHost(t, time.Second, disabled, broken)
	if b, ok := h.Lookup(config.KindStep, "acme/skip"); !ok || !b.Item.Disabled {
		t.Errorf("disabled step plugin: %+v %v", b, ok)
	}
	if b, ok := h.Lookup(config.KindTrafficRouter, "acme/broken"); !ok || b.Err == nil {
		t.Errorf("broken router plugin: %+v %v", b, ok)
	}
	if _, ok := h.Lookup(config.KindTrafficRouter, "argoproj-labs/gatewayAPI"); ok {
		t.Error("an unconfigured plugin was found")
	}
	if _, ok := New(Options{}).Lookup(config.KindStep, "acme/skip"); ok {
		t.Error("a host without plugins found one")
	}
}

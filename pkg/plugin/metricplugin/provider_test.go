package metricplugin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/host"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

// fakeCaller answers each method with what answers holds for it, or err.
type fakeCaller struct {
	answers map[string]any
	err     error
	methods []string
}

func (f *fakeCaller) Call(_ context.Context, method string, _ any, reply any) error {
	f.methods = append(f.methods, method)
	if f.err != nil {
		return f.err
	}
	switch r := reply.(type) {
	case *v1alpha1.Measurement:
		*r = f.answers[method].(v1alpha1.Measurement)
	case *map[string]string:
		*r = f.answers[method].(map[string]string)
	case *wire.RpcError:
		*r = f.answers[method].(wire.RpcError)
	}
	return nil
}

type fakePlugins struct {
	c    *fakeCaller
	kind config.Kind
	name string
}

func (f *fakePlugins) Plugin(kind config.Kind, name string) wire.Caller {
	f.kind, f.name = kind, name
	return f.c
}

func pluginMetric(names ...string) v1alpha1.Metric {
	m := v1alpha1.Metric{Name: "rate", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{}}}
	for _, n := range names {
		m.Provider.Plugin[n] = json.RawMessage(`{}`)
	}
	return m
}

func TestTheMetricsPluginIsCalledAndItsErrorsAreReportedAsUpstream(t *testing.T) {
	c := &fakeCaller{answers: map[string]any{
		"Plugin.Run":            v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseError, Message: "backend down"},
		"Plugin.Resume":         v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "1"},
		"Plugin.GetMetadata":    map[string]string{"error": "no query"},
		"Plugin.GarbageCollect": wire.RpcError{ErrorString: "nope"},
	}}
	plugins := &fakePlugins{c: c}
	p, err := New(plugins, pluginMetric("acme/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	if plugins.kind != config.KindMetricProvider || plugins.name != "acme/metrics" || p.Type() != "RPCPlugin" {
		t.Errorf("plugin %s %s, type %s", plugins.kind, plugins.name, p.Type())
	}
	m := p.Run(context.Background(), &v1alpha1.AnalysisRun{}, pluginMetric("acme/metrics"))
	if m.Phase != v1alpha1.AnalysisPhaseError || m.Message != "failed to run via plugin: backend down" {
		t.Errorf("Run %+v", m)
	}
	if m := p.Resume(context.Background(), &v1alpha1.AnalysisRun{}, pluginMetric("acme/metrics"), v1alpha1.Measurement{}); m.Value != "1" {
		t.Errorf("Resume %+v", m)
	}
	if md := p.Metadata(pluginMetric("acme/metrics")); md["error"] != "failed to get metadata via plugin: no query" {
		t.Errorf("Metadata %v", md)
	}
	if err := p.GarbageCollect(context.Background(), &v1alpha1.AnalysisRun{}, pluginMetric("acme/metrics"), 3); err == nil || err.Error() != "failed to garbage collect via plugin: nope" {
		t.Errorf("GarbageCollect %v", err)
	}
}

func TestAFailedCallIsAnErrorMeasurementNamingThePlugin(t *testing.T) {
	c := &fakeCaller{err: errors.New("MetricProvider plugin acme/metrics: Plugin.Resume got no answer in time: context deadline exceeded")}
	p, _ := New(&fakePlugins{c: c}, pluginMetric("acme/metrics"))
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, Value: "kept"}
	m := p.Resume(context.Background(), &v1alpha1.AnalysisRun{}, pluginMetric("acme/metrics"), in)
	if m.Phase != v1alpha1.AnalysisPhaseError || m.Value != "kept" || !strings.Contains(m.Message, "acme/metrics") {
		t.Errorf("Resume %+v", m)
	}
	if md := p.Metadata(pluginMetric("acme/metrics")); !strings.Contains(md["error"], "deadline") {
		t.Errorf("Metadata %v", md)
	}
}

func TestAMeasurementWithoutAPhaseIsNeverASuccess(t *testing.T) {
	c := &fakeCaller{answers: map[string]any{"Plugin.Run": v1alpha1.Measurement{Value: "1"}}}
	p, _ := New(&fakePlugins{c: c}, pluginMetric("acme/metrics"))
	if m := p.Run(context.Background(), &v1alpha1.AnalysisRun{}, pluginMetric("acme/metrics")); m.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("Run %+v", m)
	}
}

func TestAnUnconfiguredPluginGivesAnErrorMeasurementNamingIt(t *testing.T) {
	h := host.New(host.Options{})
	p, err := New(h, pluginMetric("acme/missing"))
	if err != nil {
		t.Fatal(err)
	}
	m := p.Run(context.Background(), &v1alpha1.AnalysisRun{}, pluginMetric("acme/missing"))
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "acme/missing") || !strings.Contains(m.Message, "not configured") {
		t.Errorf("Run %+v", m)
	}
}

func TestAMetricMustNameExactlyOnePlugin(t *testing.T) {
	for _, names := range [][]string{nil, {"a/b", "c/d"}} {
		if _, err := New(&fakePlugins{c: &fakeCaller{}}, pluginMetric(names...)); err == nil || !strings.Contains(err.Error(), "rate") {
			t.Errorf("%v: %v", names, err)
		}
	}
}

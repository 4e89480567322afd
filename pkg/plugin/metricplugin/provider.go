// Package metricplugin measures metrics whose provider is a plugin
// (spec.metrics[].provider.plugin): a metric.Provider that forwards each
// measurement to the plugin process named by the metric.
package metricplugin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

// ProviderType is the type Argo Rollouts gives every plugin metric.
const ProviderType = "RPCPlugin"

// Plugins returns the Caller of a plugin by kind and name (host.Host).
type Plugins interface {
	Plugin(kind config.Kind, name string) wire.Caller
}

// Provider measures through one metric-provider plugin.
type Provider struct {
	name   string
	client wire.MetricClient
}

var _ metric.Provider = (*Provider)(nil)

// New returns the provider of a metric whose provider is a plugin. The
// plugin's process starts on the first measurement.
func New(plugins Plugins, m v1alpha1.Metric) (*Provider, error) {
	name, err := PluginName(m)
	if err != nil {
		return nil, err
	}
	return &Provider{name: name, client: wire.MetricClient{C: plugins.Plugin(config.KindMetricProvider, name)}}, nil
}

// PluginName is the name of the metric's plugin: the single key of
// provider.plugin.
func PluginName(m v1alpha1.Metric) (string, error) {
	switch len(m.Provider.Plugin) {
	case 0:
		return "", fmt.Errorf("metric '%s' has no provider plugin", m.Name)
	case 1:
		return slices.Collect(maps.Keys(m.Provider.Plugin))[0], nil
	}
	return "", fmt.Errorf("metric '%s' names %d provider plugins; exactly one is allowed", m.Name, len(m.Provider.Plugin))
}

// Type is the type Argo Rollouts reports for plugin metrics. It asks the
// plugin nothing: Argo Rollouts' analysis controller never calls the
// plugin's Type either.
func (p *Provider) Type() string { return ProviderType }

// Run starts a measurement through the plugin.
func (p *Provider) Run(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	out, err := p.client.Run(ctx, run, m)
	return p.settle(out, err, "run")
}

// Resume checks on a running measurement through the plugin.
func (p *Provider) Resume(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	out, err := p.client.Resume(ctx, run, m, in)
	return p.settleFrom(in, out, err, "resume")
}

// Terminate stops a running measurement through the plugin.
func (p *Provider) Terminate(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	out, err := p.client.Terminate(ctx, run, m, in)
	return p.settleFrom(in, out, err, "terminate")
}

// GarbageCollect lets the plugin remove what it kept for old measurements.
func (p *Provider) GarbageCollect(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, limit int) error {
	err := p.client.GarbageCollect(ctx, run, m, limit)
	var rpcErr wire.RpcError
	if errors.As(err, &rpcErr) {
		return fmt.Errorf("failed to garbage collect via plugin: %w", err)
	}
	return err
}

// Metadata asks the plugin for the metric's metadata. A failed call is
// recorded under the "error" key, as Argo Rollouts does.
func (p *Provider) Metadata(m v1alpha1.Metric) map[string]string {
	md, err := p.client.GetMetadata(context.Background(), m)
	if err != nil {
		return map[string]string{"error": err.Error()}
	}
	if md["error"] != "" {
		md["error"] = "failed to get metadata via plugin: " + md["error"]
	}
	return md
}

// settle turns a failed call into an Error measurement naming the plugin,
// and prefixes an Error the plugin reported as Argo Rollouts does.
func (p *Provider) settle(out v1alpha1.Measurement, err error, verb string) v1alpha1.Measurement {
	return p.settleFrom(v1alpha1.Measurement{}, out, err, verb)
}

func (p *Provider) settleFrom(in, out v1alpha1.Measurement, err error, verb string) v1alpha1.Measurement {
	if err != nil {
		return metric.MarkError(in, err)
	}
	switch out.Phase {
	case v1alpha1.AnalysisPhaseError:
		out.Message = fmt.Sprintf("failed to %s via plugin: %s", verb, out.Message)
	case "":
		return metric.MarkError(out, fmt.Errorf("metric provider plugin %s returned a measurement without a phase", p.name))
	}
	return out
}

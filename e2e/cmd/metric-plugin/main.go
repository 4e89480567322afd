// Command metric-plugin is a metric-provider plugin for the end-to-end
// tests, built like any plugin for Argo Rollouts: a go-plugin net/rpc
// server with the metricprovider handshake. It reads a gauge from
// Prometheus and compares it with a threshold from the metric's plugin
// configuration:
//
//	provider:
//	  plugin:
//	    serin-e2e/metric: {metric: success_rate, min: 0.99}
//
// The gauge is selected by the AnalysisRun's namespace. With --hang every
// measurement waits forever, to test the controller's deadline.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/e2e/cluster"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

func main() {
	prometheus := flag.String("prometheus", "", "base URL of Prometheus")
	hang := flag.Bool("hang", false, "never answer a measurement")
	flag.Parse()
	p := &plugin{prometheus: *prometheus, hang: *hang}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: wire.Handshake(config.KindMetricProvider),
		Plugins:         wire.PluginSet(config.KindMetricProvider, &wire.MetricServer{Impl: p}),
	})
}

type plugin struct {
	prometheus string
	hang       bool
}

// settings is a metric's plugin configuration.
type settings struct {
	Metric string  `json:"metric"`
	Min    float64 `json:"min"`
}

func (p *plugin) InitPlugin() wire.RpcError {
	if p.prometheus == "" && !p.hang {
		return wire.RpcError{ErrorString: "--prometheus is required"}
	}
	return wire.RpcError{}
}

func (p *plugin) Run(run *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	if p.hang {
		select {}
	}
	now := metav1.Now()
	meas := v1alpha1.Measurement{StartedAt: &now}
	s, err := readSettings(m)
	if err != nil {
		return failed(meas, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	value, err := cluster.QueryPrometheus(ctx, p.prometheus, query(s, run))
	if err != nil {
		return failed(meas, err)
	}
	meas.Value = strconv.FormatFloat(value, 'f', -1, 64)
	meas.Phase = v1alpha1.AnalysisPhaseFailed
	if value >= s.Min {
		meas.Phase = v1alpha1.AnalysisPhaseSuccessful
	}
	meas.Metadata = map[string]string{"plugin-pid": strconv.Itoa(os.Getpid())}
	finished := metav1.Now()
	meas.FinishedAt = &finished
	return meas
}

func (p *plugin) Resume(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

func (p *plugin) Terminate(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

func (p *plugin) GarbageCollect(*v1alpha1.AnalysisRun, v1alpha1.Metric, int) wire.RpcError {
	return wire.RpcError{}
}

func (p *plugin) Type() string { return "SerinE2E" }

func (p *plugin) GetMetadata(m v1alpha1.Metric) map[string]string {
	s, err := readSettings(m)
	if err != nil {
		return map[string]string{"error": err.Error()}
	}
	return map[string]string{"gauge": s.Metric}
}

func readSettings(m v1alpha1.Metric) (settings, error) {
	var s settings
	for _, raw := range m.Provider.Plugin {
		if err := json.Unmarshal(raw, &s); err != nil {
			return s, fmt.Errorf("plugin configuration: %w", err)
		}
	}
	if s.Metric == "" {
		return s, fmt.Errorf("plugin configuration: metric is required")
	}
	return s, nil
}

func query(s settings, run *v1alpha1.AnalysisRun) string {
	return fmt.Sprintf("%s{namespace=%q}", s.Metric, run.Namespace)
}

func failed(m v1alpha1.Measurement, err error) v1alpha1.Measurement {
	m.Phase = v1alpha1.AnalysisPhaseError
	m.Message = err.Error()
	return m
}

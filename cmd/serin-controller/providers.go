package main

import (
	"context"
	"fmt"
	"os"

	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/cloudwatch"
	"github.com/serin-dev/serin/pkg/metric/datadog"
	"github.com/serin-dev/serin/pkg/metric/graphite"
	"github.com/serin-dev/serin/pkg/metric/influxdb"
	"github.com/serin-dev/serin/pkg/metric/job"
	"github.com/serin-dev/serin/pkg/metric/kayenta"
	"github.com/serin-dev/serin/pkg/metric/newrelic"
	"github.com/serin-dev/serin/pkg/metric/prometheus"
	"github.com/serin-dev/serin/pkg/metric/skywalking"
	"github.com/serin-dev/serin/pkg/metric/wavefront"
	"github.com/serin-dev/serin/pkg/metric/web"
	"github.com/serin-dev/serin/pkg/plugin/host"
	"github.com/serin-dev/serin/pkg/plugin/metricplugin"
)

// providerFactory builds the provider of each metric: the one place that
// names every provider implementation.
type providerFactory struct {
	kube    kubernetes.Interface
	secrets metric.SecretGetter
	// prometheusAddress is ARGO_ROLLOUTS_PROMETHEUS_ADDRESS.
	prometheusAddress string
	job               *job.Provider
	// The HTTP providers are built once and serve every metric.
	datadog    *datadog.Provider
	newRelic   *newrelic.Provider
	wavefront  *wavefront.Provider
	influxdb   *influxdb.Provider
	graphite   *graphite.Provider
	skywalking *skywalking.Provider
	cloudWatch *cloudwatch.Provider
	kayenta    *kayenta.Provider
	// plugins runs metric-provider plugins.
	plugins *host.Host
}

var _ metric.Factory = (*providerFactory)(nil)

func newProviderFactory(kube kubernetes.Interface, jobs batchlisters.JobLister, pods corelisters.PodLister, secrets metric.SecretGetter, ownNamespace string, plugins *host.Host) *providerFactory {
	return &providerFactory{
		kube:              kube,
		secrets:           secrets,
		prometheusAddress: os.Getenv(prometheus.AddressEnv),
		job:               job.New(job.Options{Client: kube, Lister: jobs, Pods: pods, Namespace: os.Getenv(job.NamespaceEnv)}),
		datadog:           datadog.New(nil, secrets, ownNamespace, metric.Evaluate),
		newRelic:          newrelic.New(nil, secrets, ownNamespace, metric.Evaluate),
		wavefront:         wavefront.New(nil, secrets, ownNamespace, metric.Evaluate),
		influxdb:          influxdb.New(nil, secrets, ownNamespace, metric.Evaluate),
		graphite:          graphite.New(nil, metric.Evaluate),
		skywalking:        skywalking.New(nil, metric.Evaluate),
		cloudWatch:        cloudwatch.New(nil, metric.Evaluate),
		kayenta:           kayenta.New(nil),
		plugins:           plugins,
	}
}

// NewProvider returns the provider of a metric whose arguments are resolved.
func (f *providerFactory) NewProvider(_ context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) (metric.Provider, error) {
	p := m.Provider
	switch {
	case p.Prometheus != nil:
		return prometheus.New(m, prometheus.Options{DefaultAddress: f.prometheusAddress})
	case p.Web != nil:
		return web.New(m)
	case p.Job != nil:
		return f.job, nil
	case p.Datadog != nil:
		return f.datadog, nil
	case p.NewRelic != nil:
		return f.newRelic, nil
	case p.Wavefront != nil:
		return f.wavefront, nil
	case p.Influxdb != nil:
		return f.influxdb, nil
	case p.Graphite != nil:
		return f.graphite, nil
	case p.SkyWalking != nil:
		return f.skywalking, nil
	case p.CloudWatch != nil:
		return f.cloudWatch, nil
	case p.Kayenta != nil:
		return f.kayenta, nil
	case len(p.Plugin) > 0:
		return metricplugin.New(f.plugins, m)
	}
	return nil, fmt.Errorf("no valid provider in metric '%s'", m.Name)
}

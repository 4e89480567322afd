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
	"github.com/serin-dev/serin/pkg/metric/job"
	"github.com/serin-dev/serin/pkg/metric/prometheus"
	"github.com/serin-dev/serin/pkg/metric/web"
)

// providerFactory builds the provider of each metric: the one place that
// names every provider implementation.
type providerFactory struct {
	kube    kubernetes.Interface
	secrets metric.SecretGetter
	// prometheusAddress is ARGO_ROLLOUTS_PROMETHEUS_ADDRESS.
	prometheusAddress string
	job               *job.Provider
}

var _ metric.Factory = (*providerFactory)(nil)

func newProviderFactory(kube kubernetes.Interface, jobs batchlisters.JobLister, pods corelisters.PodLister, secrets metric.SecretGetter) *providerFactory {
	return &providerFactory{
		kube:              kube,
		secrets:           secrets,
		prometheusAddress: os.Getenv(prometheus.AddressEnv),
		job:               job.New(job.Options{Client: kube, Lister: jobs, Pods: pods, Namespace: os.Getenv(job.NamespaceEnv)}),
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
	}
	return nil, fmt.Errorf("no valid provider in metric '%s'", m.Name)
}

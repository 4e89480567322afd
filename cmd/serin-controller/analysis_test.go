package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/host"
)

func TestJobRunFindsTheAnalysisRun(t *testing.T) {
	isController := true
	tests := map[string]struct {
		job  *batchv1.Job
		want string
	}{
		"by annotations, across namespaces": {
			job: &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Annotations: map[string]string{
				v1alpha1.AnnotationAnalysisRunName: "run", v1alpha1.AnnotationAnalysisRunNamespace: "apps",
			}}},
			want: "apps/run",
		},
		"by controller owner": {
			job: &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "argoproj.io/v1alpha1", Kind: "AnalysisRun", Name: "run", Controller: &isController},
			}}},
			want: "apps/run",
		},
		"someone else's Job": {job: &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "apps"}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, k := range jobRun(tt.job) {
				got = append(got, k.String())
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("got %v, want %q", got, tt.want)
			}
		})
	}
}

func TestProviderFactory(t *testing.T) {
	f := newProviderFactory(kubefake.NewClientset(), batchlisters.NewJobLister(cache.NewIndexer(cache.MetaNamespaceKeyFunc, nil)), nil, liveSecrets{}, "argo-rollouts", host.New(host.Options{}))
	for _, tt := range []struct {
		provider v1alpha1.MetricProvider
		want     string
	}{
		{v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: "http://prometheus:9090"}}, "Prometheus"},
		{v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: "http://x"}}, "Web"},
		{v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{}}, "Job"},
		{v1alpha1.MetricProvider{Datadog: &v1alpha1.DatadogMetric{Query: "q"}}, "Datadog"},
		{v1alpha1.MetricProvider{NewRelic: &v1alpha1.NewRelicMetric{Query: "q"}}, "NewRelic"},
		{v1alpha1.MetricProvider{Wavefront: &v1alpha1.WavefrontMetric{Query: "q"}}, "Wavefront"},
		{v1alpha1.MetricProvider{Influxdb: &v1alpha1.InfluxdbMetric{Query: "q"}}, "Influxdb"},
		{v1alpha1.MetricProvider{Graphite: &v1alpha1.GraphiteMetric{Query: "q"}}, "Graphite"},
		{v1alpha1.MetricProvider{SkyWalking: &v1alpha1.SkyWalkingMetric{Query: "q"}}, "skywalking"}, // lower case, as upstream
		{v1alpha1.MetricProvider{CloudWatch: &v1alpha1.CloudWatchMetric{}}, "CloudWatch"},
		{v1alpha1.MetricProvider{Kayenta: &v1alpha1.KayentaMetric{}}, "Kayenta"},
		{v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"acme/metrics": nil}}, "RPCPlugin"},
	} {
		p, err := f.NewProvider(context.Background(), &v1alpha1.AnalysisRun{}, v1alpha1.Metric{Name: "m", Provider: tt.provider})
		if err != nil || p.Type() != tt.want {
			t.Errorf("%s: %v %v", tt.want, p, err)
		}
	}
	if _, err := f.NewProvider(context.Background(), &v1alpha1.AnalysisRun{}, v1alpha1.Metric{Name: "m"}); err == nil || err.Error() != "no valid provider in metric 'm'" {
		t.Errorf("no provider: %v", err)
	}
}

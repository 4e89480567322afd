package controllermetrics

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

// indexer returns an informer-style store holding objs.
func indexer(t *testing.T, objs ...runtime.Object) cache.Indexer {
	t.Helper()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range objs {
		if err := idx.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	return idx
}

func objMeta(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

func ptr[T any](v T) *T { return &v }

func progressing(reason string) v1alpha1.RolloutCondition {
	return v1alpha1.RolloutCondition{Type: v1alpha1.RolloutProgressing, Status: "True", Reason: reason}
}

func TestRolloutCollector(t *testing.T) {
	istio := &v1alpha1.Rollout{
		ObjectMeta: objMeta("shop", "web"),
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr(int32(5)),
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				TrafficRouting: &v1alpha1.RolloutTrafficRouting{Istio: &v1alpha1.IstioTrafficRouting{}},
			}},
		},
		Status: v1alpha1.RolloutStatus{
			Replicas: 6, AvailableReplicas: 4, UpdatedReplicas: 2,
			Conditions: []v1alpha1.RolloutCondition{progressing(v1alpha1.ReasonNewRSAvailable)},
		},
	}
	// Several routers: the label names the last of ALB, Ambassador, Istio,
	// Nginx, SMI, AppMesh that is set.
	twoRouters := &v1alpha1.Rollout{
		ObjectMeta: objMeta("shop", "api"),
		Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
			TrafficRouting: &v1alpha1.RolloutTrafficRouting{
				ALB:   &v1alpha1.ALBTrafficRouting{},
				Nginx: &v1alpha1.NginxTrafficRouting{},
			},
		}}},
		Status: v1alpha1.RolloutStatus{Conditions: []v1alpha1.RolloutCondition{progressing(v1alpha1.ReasonRolloutPaused)}},
	}
	blueGreen := &v1alpha1.Rollout{
		ObjectMeta: objMeta("shop", "bg"),
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr(int32(2)),
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{}},
		},
		Status: v1alpha1.RolloutStatus{Conditions: []v1alpha1.RolloutCondition{progressing(v1alpha1.ReasonRolloutAborted)}},
	}
	// InvalidSpec wins over the Progressing reason and zeroes rollout_phase.
	invalid := &v1alpha1.Rollout{
		ObjectMeta: objMeta("ops", "broken"),
		Spec:       v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{}}},
		Status: v1alpha1.RolloutStatus{Conditions: []v1alpha1.RolloutCondition{
			progressing(v1alpha1.ReasonProgressDeadline),
			{Type: v1alpha1.InvalidSpec, Status: "True", Reason: v1alpha1.ReasonInvalidSpec},
		}},
	}
	// No strategy and no conditions: none / Progressing; replicas default to 1.
	fresh := &v1alpha1.Rollout{ObjectMeta: objMeta("ops", "fresh")}

	lister := rolloutlisters.NewRolloutLister(indexer(t, istio, twoRouters, blueGreen, invalid, fresh))
	want := `
# HELP rollout_info Always 1 per Rollout; labels carry its strategy, traffic router and phase.
# TYPE rollout_info gauge
rollout_info{name="api",namespace="shop",phase="Paused",strategy="canary",traffic_router="Nginx"} 1
rollout_info{name="bg",namespace="shop",phase="Abort",strategy="blueGreen",traffic_router=""} 1
rollout_info{name="broken",namespace="ops",phase="InvalidSpec",strategy="canary",traffic_router=""} 1
rollout_info{name="fresh",namespace="ops",phase="Progressing",strategy="none",traffic_router=""} 1
rollout_info{name="web",namespace="shop",phase="Completed",strategy="canary",traffic_router="Istio"} 1
# HELP rollout_info_replicas_available Available pods of a Rollout (status.availableReplicas).
# TYPE rollout_info_replicas_available gauge
rollout_info_replicas_available{name="api",namespace="shop"} 0
rollout_info_replicas_available{name="bg",namespace="shop"} 0
rollout_info_replicas_available{name="broken",namespace="ops"} 0
rollout_info_replicas_available{name="fresh",namespace="ops"} 0
rollout_info_replicas_available{name="web",namespace="shop"} 4
# HELP rollout_info_replicas_desired Pods a Rollout asks for (spec.replicas, 1 when unset).
# TYPE rollout_info_replicas_desired gauge
rollout_info_replicas_desired{name="api",namespace="shop"} 1
rollout_info_replicas_desired{name="bg",namespace="shop"} 2
rollout_info_replicas_desired{name="broken",namespace="ops"} 1
rollout_info_replicas_desired{name="fresh",namespace="ops"} 1
rollout_info_replicas_desired{name="web",namespace="shop"} 5
# HELP rollout_info_replicas_unavailable Pods of a Rollout that are not available (status.replicas - status.availableReplicas).
# TYPE rollout_info_replicas_unavailable gauge
rollout_info_replicas_unavailable{name="api",namespace="shop"} 0
rollout_info_replicas_unavailable{name="bg",namespace="shop"} 0
rollout_info_replicas_unavailable{name="broken",namespace="ops"} 0
rollout_info_replicas_unavailable{name="fresh",namespace="ops"} 0
rollout_info_replicas_unavailable{name="web",namespace="shop"} 2
# HELP rollout_info_replicas_updated Pods of a Rollout that run its current revision (status.updatedReplicas).
# TYPE rollout_info_replicas_updated gauge
rollout_info_replicas_updated{name="api",namespace="shop"} 0
rollout_info_replicas_updated{name="bg",namespace="shop"} 0
rollout_info_replicas_updated{name="broken",namespace="ops"} 0
rollout_info_replicas_updated{name="fresh",namespace="ops"} 0
rollout_info_replicas_updated{name="web",namespace="shop"} 2
`
	if err := testutil.CollectAndCompare(NewRolloutCollector(lister), strings.NewReader(want),
		"rollout_info", "rollout_info_replicas_available", "rollout_info_replicas_desired",
		"rollout_info_replicas_unavailable", "rollout_info_replicas_updated"); err != nil {
		t.Error(err)
	}

	wantPhase := `
# HELP rollout_phase Deprecated, use rollout_info: 1 for the Rollout's phase, 0 for each other phase.
# TYPE rollout_phase gauge
rollout_phase{name="broken",namespace="ops",phase="Abort",strategy="canary"} 0
rollout_phase{name="broken",namespace="ops",phase="Completed",strategy="canary"} 0
rollout_phase{name="broken",namespace="ops",phase="Error",strategy="canary"} 0
rollout_phase{name="broken",namespace="ops",phase="Paused",strategy="canary"} 0
rollout_phase{name="broken",namespace="ops",phase="Progressing",strategy="canary"} 0
rollout_phase{name="broken",namespace="ops",phase="Timeout",strategy="canary"} 0
rollout_phase{name="web",namespace="shop",phase="Abort",strategy="canary"} 0
rollout_phase{name="web",namespace="shop",phase="Completed",strategy="canary"} 1
rollout_phase{name="web",namespace="shop",phase="Error",strategy="canary"} 0
rollout_phase{name="web",namespace="shop",phase="Paused",strategy="canary"} 0
rollout_phase{name="web",namespace="shop",phase="Progressing",strategy="canary"} 0
rollout_phase{name="web",namespace="shop",phase="Timeout",strategy="canary"} 0
`
	only := rolloutlisters.NewRolloutLister(indexer(t, istio, invalid))
	if err := testutil.CollectAndCompare(NewRolloutCollector(only), strings.NewReader(wantPhase), "rollout_phase"); err != nil {
		t.Error(err)
	}
}

func TestRolloutPhase(t *testing.T) {
	for reason, want := range map[string]string{
		v1alpha1.ReasonNewRSAvailable:        RolloutPhaseCompleted,
		v1alpha1.ReasonRolloutPaused:         RolloutPhasePaused,
		v1alpha1.ReasonReplicaSetCreateError: RolloutPhaseError,
		v1alpha1.ReasonProgressDeadline:      RolloutPhaseTimeout,
		v1alpha1.ReasonRolloutAborted:        RolloutPhaseAbort,
		v1alpha1.ReasonReplicaSetUpdated:     RolloutPhaseProgressing,
	} {
		ro := &v1alpha1.Rollout{Status: v1alpha1.RolloutStatus{Conditions: []v1alpha1.RolloutCondition{progressing(reason)}}}
		if got := RolloutPhase(ro); got != want {
			t.Errorf("Progressing reason %s: phase %s, want %s", reason, got, want)
		}
	}
}

func TestAnalysisRunCollector(t *testing.T) {
	run := &v1alpha1.AnalysisRun{
		ObjectMeta: objMeta("shop", "web-abc-2"),
		Spec: v1alpha1.AnalysisRunSpec{
			Metrics: []v1alpha1.Metric{
				{Name: "success-rate", Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{}}},
				{Name: "web-check", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{}}},
			},
			DryRun: []v1alpha1.DryRun{{MetricName: "web.*"}},
		},
		Status: v1alpha1.AnalysisRunStatus{
			Phase:         v1alpha1.AnalysisPhaseRunning,
			MetricResults: []v1alpha1.MetricResult{{Name: "success-rate", Phase: v1alpha1.AnalysisPhaseSuccessful}},
		},
	}
	// A run not yet reconciled has no phase: Pending in the one-hot series.
	fresh := &v1alpha1.AnalysisRun{ObjectMeta: objMeta("shop", "fresh")}

	c := NewAnalysisRunCollector(rolloutlisters.NewAnalysisRunLister(indexer(t, run, fresh)))
	want := `
# HELP analysis_run_info Always 1 per AnalysisRun; the phase label is status.phase.
# TYPE analysis_run_info gauge
analysis_run_info{name="fresh",namespace="shop",phase=""} 1
analysis_run_info{name="web-abc-2",namespace="shop",phase="Running"} 1
# HELP analysis_run_phase Deprecated, use analysis_run_info: 1 for the AnalysisRun's phase, 0 for each other phase.
# TYPE analysis_run_phase gauge
analysis_run_phase{name="fresh",namespace="shop",phase="Error"} 0
analysis_run_phase{name="fresh",namespace="shop",phase="Failed"} 0
analysis_run_phase{name="fresh",namespace="shop",phase="Inconclusive"} 0
analysis_run_phase{name="fresh",namespace="shop",phase="Pending"} 1
analysis_run_phase{name="fresh",namespace="shop",phase="Running"} 0
analysis_run_phase{name="fresh",namespace="shop",phase="Successful"} 0
analysis_run_phase{name="web-abc-2",namespace="shop",phase="Error"} 0
analysis_run_phase{name="web-abc-2",namespace="shop",phase="Failed"} 0
analysis_run_phase{name="web-abc-2",namespace="shop",phase="Inconclusive"} 0
analysis_run_phase{name="web-abc-2",namespace="shop",phase="Pending"} 0
analysis_run_phase{name="web-abc-2",namespace="shop",phase="Running"} 1
analysis_run_phase{name="web-abc-2",namespace="shop",phase="Successful"} 0
# HELP analysis_run_metric_type Always 1 per metric of an AnalysisRun; the type label is its provider.
# TYPE analysis_run_metric_type gauge
analysis_run_metric_type{metric="success-rate",name="web-abc-2",namespace="shop",type="Prometheus"} 1
analysis_run_metric_type{metric="web-check",name="web-abc-2",namespace="shop",type="Web"} 1
# HELP analysis_run_metric_phase 1 for the phase of one metric of an AnalysisRun, 0 for each other phase.
# TYPE analysis_run_metric_phase gauge
analysis_run_metric_phase{dry_run="false",metric="success-rate",name="web-abc-2",namespace="shop",phase="Error",type="Prometheus"} 0
analysis_run_metric_phase{dry_run="false",metric="success-rate",name="web-abc-2",namespace="shop",phase="Failed",type="Prometheus"} 0
analysis_run_metric_phase{dry_run="false",metric="success-rate",name="web-abc-2",namespace="shop",phase="Inconclusive",type="Prometheus"} 0
analysis_run_metric_phase{dry_run="false",metric="success-rate",name="web-abc-2",namespace="shop",phase="Pending",type="Prometheus"} 0
analysis_run_metric_phase{dry_run="false",metric="success-rate",name="web-abc-2",namespace="shop",phase="Running",type="Prometheus"} 0
analysis_run_metric_phase{dry_run="false",metric="success-rate",name="web-abc-2",namespace="shop",phase="Successful",type="Prometheus"} 1
analysis_run_metric_phase{dry_run="true",metric="web-check",name="web-abc-2",namespace="shop",phase="Error",type="Web"} 0
analysis_run_metric_phase{dry_run="true",metric="web-check",name="web-abc-2",namespace="shop",phase="Failed",type="Web"} 0
analysis_run_metric_phase{dry_run="true",metric="web-check",name="web-abc-2",namespace="shop",phase="Inconclusive",type="Web"} 0
analysis_run_metric_phase{dry_run="true",metric="web-check",name="web-abc-2",namespace="shop",phase="Pending",type="Web"} 1
analysis_run_metric_phase{dry_run="true",metric="web-check",name="web-abc-2",namespace="shop",phase="Running",type="Web"} 0
analysis_run_metric_phase{dry_run="true",metric="web-check",name="web-abc-2",namespace="shop",phase="Successful",type="Web"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestAnalysisTemplateCollector(t *testing.T) {
	at := &v1alpha1.AnalysisTemplate{
		ObjectMeta: objMeta("shop", "success-rate"),
		Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{
			{Name: "rate", Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{}}},
			{Name: "rate", Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{}}}, // duplicate: dropped
			{Name: "mystery"},
		}},
	}
	cat := &v1alpha1.ClusterAnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "global"},
		Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{
			{Name: "job", Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{}}},
		}},
	}
	want := `
# HELP analysis_template_info Always 1 per AnalysisTemplate and ClusterAnalysisTemplate (namespace empty).
# TYPE analysis_template_info gauge
analysis_template_info{name="global",namespace=""} 1
analysis_template_info{name="success-rate",namespace="shop"} 1
# HELP analysis_template_metric_info Always 1 per metric of an AnalysisTemplate or ClusterAnalysisTemplate; the type label is its provider.
# TYPE analysis_template_metric_info gauge
analysis_template_metric_info{metric="job",name="global",namespace="",type="Job"} 1
analysis_template_metric_info{metric="mystery",name="success-rate",namespace="shop",type="Unknown Provider"} 1
analysis_template_metric_info{metric="rate",name="success-rate",namespace="shop",type="Prometheus"} 1
`
	c := NewAnalysisTemplateCollector(
		rolloutlisters.NewAnalysisTemplateLister(indexer(t, at)),
		rolloutlisters.NewClusterAnalysisTemplateLister(indexer(t, cat)))
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}

	// Namespaced controllers have no cluster templates.
	nsOnly := NewAnalysisTemplateCollector(rolloutlisters.NewAnalysisTemplateLister(indexer(t, at)), nil)
	if n := testutil.CollectAndCount(nsOnly, "analysis_template_info"); n != 1 {
		t.Errorf("namespaced: %d analysis_template_info series, want 1", n)
	}
}

func TestExperimentCollector(t *testing.T) {
	failed := &v1alpha1.Experiment{ObjectMeta: objMeta("shop", "exp"), Status: v1alpha1.ExperimentStatus{Phase: v1alpha1.AnalysisPhaseFailed}}
	running := &v1alpha1.Experiment{ObjectMeta: objMeta("shop", "run"), Status: v1alpha1.ExperimentStatus{Phase: v1alpha1.AnalysisPhaseRunning}}
	want := `
# HELP experiment_info Always 1 per Experiment; the phase label is status.phase.
# TYPE experiment_info gauge
experiment_info{name="exp",namespace="shop",phase="Failed"} 1
experiment_info{name="run",namespace="shop",phase="Running"} 1
# HELP experiment_phase Deprecated, use experiment_info: 1 for the Experiment's phase, 0 for each other phase.
# TYPE experiment_phase gauge
experiment_phase{name="exp",namespace="shop",phase="Error"} 0
experiment_phase{name="exp",namespace="shop",phase="Inconclusive"} 0
experiment_phase{name="exp",namespace="shop",phase="Pending"} 0
experiment_phase{name="exp",namespace="shop",phase="Running"} 0
experiment_phase{name="exp",namespace="shop",phase="Successful"} 0
experiment_phase{name="run",namespace="shop",phase="Error"} 0
experiment_phase{name="run",namespace="shop",phase="Inconclusive"} 0
experiment_phase{name="run",namespace="shop",phase="Pending"} 0
experiment_phase{name="run",namespace="shop",phase="Running"} 1
experiment_phase{name="run",namespace="shop",phase="Successful"} 0
`
	c := NewExperimentCollector(rolloutlisters.NewExperimentLister(indexer(t, failed, running)))
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestProviderType(t *testing.T) {
	for want, p := range map[string]v1alpha1.MetricProvider{
		"Kayenta":    {Kayenta: &v1alpha1.KayentaMetric{}},
		"Datadog":    {Datadog: &v1alpha1.DatadogMetric{}},
		"Wavefront":  {Wavefront: &v1alpha1.WavefrontMetric{}},
		"NewRelic":   {NewRelic: &v1alpha1.NewRelicMetric{}},
		"CloudWatch": {CloudWatch: &v1alpha1.CloudWatchMetric{}},
		"Graphite":   {Graphite: &v1alpha1.GraphiteMetric{}},
		"Influxdb":   {Influxdb: &v1alpha1.InfluxdbMetric{}},
		"skywalking": {SkyWalking: &v1alpha1.SkyWalkingMetric{}},
		"RPCPlugin":  {Plugin: map[string]json.RawMessage{}},
	} {
		if got := ProviderType(v1alpha1.Metric{Provider: p}); got != want {
			t.Errorf("ProviderType = %q, want %q", got, want)
		}
	}
}

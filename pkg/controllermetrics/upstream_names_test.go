package controllermetrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

// upstreamFamily is what a dashboard or alert written for Argo Rollouts
// relies on: the metric's name, its type and its label names.
type upstreamFamily struct {
	kind   dto.MetricType
	labels []string
}

// upstreamFamilies lists the metrics Argo Rollouts' controller exports
// (controller/metrics in argoproj/argo-rollouts), with their label names.
var upstreamFamilies = map[string]upstreamFamily{
	"rollout_info":                      {dto.MetricType_GAUGE, []string{"name", "namespace", "phase", "strategy", "traffic_router"}},
	"rollout_info_replicas_available":   {dto.MetricType_GAUGE, []string{"name", "namespace"}},
	"rollout_info_replicas_unavailable": {dto.MetricType_GAUGE, []string{"name", "namespace"}},
	"rollout_info_replicas_desired":     {dto.MetricType_GAUGE, []string{"name", "namespace"}},
	"rollout_info_replicas_updated":     {dto.MetricType_GAUGE, []string{"name", "namespace"}},
	"rollout_phase":                     {dto.MetricType_GAUGE, []string{"name", "namespace", "phase", "strategy"}},
	"rollout_reconcile":                 {dto.MetricType_HISTOGRAM, []string{"name", "namespace"}},
	"rollout_reconcile_error":           {dto.MetricType_COUNTER, []string{"name", "namespace"}},
	"rollout_events_total":              {dto.MetricType_COUNTER, []string{"name", "namespace", "reason", "type"}},

	"rollout_duration_seconds":              {dto.MetricType_HISTOGRAM, []string{"status"}},
	"rollout_progression_duration_seconds":  {dto.MetricType_HISTOGRAM, []string{"status"}},
	"rollout_manual_pause_duration_seconds": {dto.MetricType_HISTOGRAM, []string{"status"}},

	"analysis_run_info":             {dto.MetricType_GAUGE, []string{"name", "namespace", "phase"}},
	"analysis_run_phase":            {dto.MetricType_GAUGE, []string{"name", "namespace", "phase"}},
	"analysis_run_metric_type":      {dto.MetricType_GAUGE, []string{"metric", "name", "namespace", "type"}},
	"analysis_run_metric_phase":     {dto.MetricType_GAUGE, []string{"dry_run", "metric", "name", "namespace", "phase", "type"}},
	"analysis_run_reconcile":        {dto.MetricType_HISTOGRAM, []string{"name", "namespace"}},
	"analysis_run_reconcile_error":  {dto.MetricType_COUNTER, []string{"name", "namespace"}},
	"analysis_template_info":        {dto.MetricType_GAUGE, []string{"name", "namespace"}},
	"analysis_template_metric_info": {dto.MetricType_GAUGE, []string{"metric", "name", "namespace", "type"}},

	"experiment_info":            {dto.MetricType_GAUGE, []string{"name", "namespace", "phase"}},
	"experiment_phase":           {dto.MetricType_GAUGE, []string{"name", "namespace", "phase"}},
	"experiment_reconcile":       {dto.MetricType_HISTOGRAM, []string{"name", "namespace"}},
	"experiment_reconcile_error": {dto.MetricType_COUNTER, []string{"name", "namespace"}},

	"controller_clientset_k8s_request_total": {dto.MetricType_COUNTER, []string{"kind", "name", "namespace", "status_code", "verb"}},
	"argo_rollouts_controller_info":          {dto.MetricType_GAUGE, []string{"version"}},

	"notification_send_success": {dto.MetricType_COUNTER, []string{"name", "namespace", "reason", "type"}},
	"notification_send_error":   {dto.MetricType_COUNTER, []string{"name", "namespace", "reason", "type"}},
	"notification_send":         {dto.MetricType_HISTOGRAM, []string{"name", "namespace"}},
}

// notExportedYet are upstream metrics Serin does not export yet. The test
// insists they stay absent, so whoever adds one must move it into
// upstreamFamilies with its labels.
var notExportedYet = []string{}

// Every metric family Serin exports under an upstream name has upstream's
// type and label names, and nothing else is exported under the names
// upstream uses for its own metrics.
func TestMetricNamesAndLabelsMatchArgoRollouts(t *testing.T) {
	got := gatherEveryFamily(t)
	for name, want := range upstreamFamilies {
		fam, ok := got[name]
		if !ok {
			t.Errorf("%s: not exported", name)
			continue
		}
		if fam.GetType() != want.kind {
			t.Errorf("%s: type %s, upstream %s", name, fam.GetType(), want.kind)
		}
		if labels := labelNames(fam); !slices.Equal(labels, want.labels) {
			t.Errorf("%s: labels %v, upstream %v", name, labels, want.labels)
		}
	}
	for _, name := range notExportedYet {
		if _, ok := got[name]; ok {
			t.Errorf("%s is now exported: move it into upstreamFamilies with upstream's labels", name)
		}
	}
	for name := range got {
		if _, known := upstreamFamilies[name]; known || !ownPrefix(name) {
			continue
		}
		t.Errorf("%s: exported under an upstream prefix but not an upstream metric", name)
	}
}

func ownPrefix(name string) bool {
	for _, p := range []string{"rollout_", "analysis_", "experiment_", "controller_clientset_", "argo_rollouts_", "notification_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// gatherEveryFamily fills every metric with at least one series (an object
// of each kind, a failed reconcile of each, an event, a finished update, a
// request) and gathers the registry.
func gatherEveryFamily(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	m := New("test")
	run := &v1alpha1.AnalysisRun{ObjectMeta: objMeta("shop", "run"), Spec: v1alpha1.AnalysisRunSpec{
		Metrics: []v1alpha1.Metric{{Name: "rate", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{}}}},
	}}
	tmpl := &v1alpha1.AnalysisTemplate{ObjectMeta: objMeta("shop", "tmpl"), Spec: v1alpha1.AnalysisTemplateSpec{
		Metrics: []v1alpha1.Metric{{Name: "rate", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{}}}},
	}}
	m.MustRegister(
		NewRolloutCollector(oneRollout(t)),
		NewAnalysisRunCollector(rolloutlisters.NewAnalysisRunLister(indexer(t, run))),
		NewAnalysisTemplateCollector(rolloutlisters.NewAnalysisTemplateLister(indexer(t, tmpl)), nil),
		NewExperimentCollector(rolloutlisters.NewExperimentLister(indexer(t, &v1alpha1.Experiment{ObjectMeta: objMeta("shop", "exp")}))),
	)
	failed := errors.New("failed")
	m.ObserveRolloutReconcile("shop", "web", time.Millisecond, failed)
	m.ObserveAnalysisRunReconcile("shop", "run", time.Millisecond, failed)
	m.ObserveExperimentReconcile("shop", "exp", time.Millisecond, failed)
	m.CountRolloutEvent("shop", "web", corev1.EventTypeNormal, v1alpha1.EventRolloutUpdated)
	m.NotificationSent("shop", "web", corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted)
	m.NotificationFailed("shop", "web", corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted)
	m.ObserveNotificationSend("shop", "web", time.Millisecond)
	m.ObserveRolloutDuration(finishedUpdate(0, time.Minute, nil, v1alpha1.CompletionStatusPromoted))
	requestThrough(t, m)

	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	return byName
}

func requestThrough(t *testing.T, m *Metrics) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/namespaces/shop/services/web", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := m.WrapTransport(http.DefaultTransport).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
}

func labelNames(f *dto.MetricFamily) []string {
	var names []string
	if len(f.GetMetric()) > 0 {
		for _, l := range f.GetMetric()[0].GetLabel() {
			names = append(names, l.GetName())
		}
	}
	slices.Sort(names)
	return names
}

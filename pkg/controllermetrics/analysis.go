package controllermetrics

import (
	"regexp"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

var (
	analysisRunInfoDesc = prometheus.NewDesc("analysis_run_info",
		"Always 1 per AnalysisRun; the phase label is status.phase.",
		[]string{"namespace", "name", "phase"}, nil)
	analysisRunPhaseDesc = prometheus.NewDesc("analysis_run_phase",
		"Deprecated, use analysis_run_info: 1 for the AnalysisRun's phase, 0 for each other phase.",
		[]string{"namespace", "name", "phase"}, nil)
	analysisRunMetricTypeDesc = prometheus.NewDesc("analysis_run_metric_type",
		"Always 1 per metric of an AnalysisRun; the type label is its provider.",
		[]string{"namespace", "name", "metric", "type"}, nil)
	analysisRunMetricPhaseDesc = prometheus.NewDesc("analysis_run_metric_phase",
		"1 for the phase of one metric of an AnalysisRun, 0 for each other phase.",
		[]string{"namespace", "name", "metric", "type", "dry_run", "phase"}, nil)
	analysisTemplateInfoDesc = prometheus.NewDesc("analysis_template_info",
		"Always 1 per AnalysisTemplate and ClusterAnalysisTemplate (namespace empty).",
		namespaceName, nil)
	analysisTemplateMetricInfoDesc = prometheus.NewDesc("analysis_template_metric_info",
		"Always 1 per metric of an AnalysisTemplate or ClusterAnalysisTemplate; the type label is its provider.",
		[]string{"namespace", "name", "type", "metric"}, nil)
)

// analysisPhases are the one-hot series of analysis_run_phase and
// analysis_run_metric_phase, in Argo Rollouts' order. An empty phase counts
// as Pending.
var analysisPhases = []v1alpha1.AnalysisPhase{
	v1alpha1.AnalysisPhasePending,
	v1alpha1.AnalysisPhaseError,
	v1alpha1.AnalysisPhaseFailed,
	v1alpha1.AnalysisPhaseSuccessful,
	v1alpha1.AnalysisPhaseRunning,
	v1alpha1.AnalysisPhaseInconclusive,
}

// NewAnalysisRunCollector reports analysis_run_info, analysis_run_phase,
// analysis_run_metric_type and analysis_run_metric_phase for every
// AnalysisRun in lister, at scrape time.
func NewAnalysisRunCollector(lister rolloutlisters.AnalysisRunLister) prometheus.Collector {
	return listCollector[*v1alpha1.AnalysisRun]{
		kind: "AnalysisRun",
		descs: []*prometheus.Desc{analysisRunInfoDesc, analysisRunPhaseDesc,
			analysisRunMetricTypeDesc, analysisRunMetricPhaseDesc},
		list:    lister.List,
		collect: collectAnalysisRun,
	}
}

func collectAnalysisRun(ch chan<- prometheus.Metric, run *v1alpha1.AnalysisRun) {
	gauge := func(d *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{run.Namespace, run.Name}, extra...)...)
	}
	gauge(analysisRunInfoDesc, 1, string(run.Status.Phase))
	for _, p := range analysisPhases {
		gauge(analysisRunPhaseDesc, boolValue(samePhase(run.Status.Phase, p)), string(p))
	}

	dryRun := dryRunMetrics(run.Spec.DryRun, run.Spec.Metrics)
	for _, m := range uniqueMetrics(run.Spec.Metrics) {
		provider := ProviderType(m)
		gauge(analysisRunMetricTypeDesc, 1, m.Name, provider)
		var phase v1alpha1.AnalysisPhase
		if r := run.Status.MetricResultByName(m.Name); r != nil {
			phase = r.Phase
		}
		dry := strconv.FormatBool(dryRun[m.Name])
		for _, p := range analysisPhases {
			gauge(analysisRunMetricPhaseDesc, boolValue(samePhase(phase, p)), m.Name, provider, dry, string(p))
		}
	}
}

// uniqueMetrics drops metrics whose name repeats an earlier one. Such specs
// are invalid, but reporting a series twice would fail the whole scrape.
func uniqueMetrics(metrics []v1alpha1.Metric) []v1alpha1.Metric {
	seen := make(map[string]bool, len(metrics))
	out := metrics[:0:0]
	for _, m := range metrics {
		if !seen[m.Name] {
			seen[m.Name] = true
			out = append(out, m)
		}
	}
	return out
}

// samePhase compares phases, reading an unset phase as Pending.
func samePhase(got, want v1alpha1.AnalysisPhase) bool {
	if got == "" {
		got = v1alpha1.AnalysisPhasePending
	}
	return got == want
}

// dryRunMetrics returns the names of the metrics that spec.dryRun selects:
// each entry's metricName is an unanchored regular expression. Invalid
// expressions select nothing (the run itself reports them).
func dryRunMetrics(rules []v1alpha1.DryRun, metrics []v1alpha1.Metric) map[string]bool {
	if len(rules) == 0 {
		return nil
	}
	selected := make(map[string]bool)
	for _, rule := range rules {
		re, err := regexp.Compile(rule.MetricName)
		if err != nil {
			continue
		}
		for _, m := range metrics {
			if re.MatchString(m.Name) {
				selected[m.Name] = true
			}
		}
	}
	return selected
}

// ProviderType is the type label of a metric: the name Argo Rollouts gives
// its provider, or "Unknown Provider".
func ProviderType(m v1alpha1.Metric) string {
	p := m.Provider
	switch {
	case p.Prometheus != nil:
		return "Prometheus"
	case p.Job != nil:
		return "Job"
	case p.Kayenta != nil:
		return "Kayenta"
	case p.Web != nil:
		return "Web"
	case p.Datadog != nil:
		return "Datadog"
	case p.Wavefront != nil:
		return "Wavefront"
	case p.NewRelic != nil:
		return "NewRelic"
	case p.CloudWatch != nil:
		return "CloudWatch"
	case p.Graphite != nil:
		return "Graphite"
	case p.Influxdb != nil:
		return "Influxdb"
	case p.SkyWalking != nil:
		return "skywalking"
	case p.Plugin != nil:
		return "RPCPlugin"
	}
	return "Unknown Provider"
}

type analysisTemplateCollector struct {
	parts []prometheus.Collector
}

// NewAnalysisTemplateCollector reports analysis_template_info and
// analysis_template_metric_info for every AnalysisTemplate and
// ClusterAnalysisTemplate, at scrape time. Either lister may be nil, e.g.
// clusterTemplates for a controller that watches a single namespace.
func NewAnalysisTemplateCollector(templates rolloutlisters.AnalysisTemplateLister, clusterTemplates rolloutlisters.ClusterAnalysisTemplateLister) prometheus.Collector {
	c := &analysisTemplateCollector{}
	if templates != nil {
		c.parts = append(c.parts, listCollector[*v1alpha1.AnalysisTemplate]{
			kind: "AnalysisTemplate",
			list: templates.List,
			collect: func(ch chan<- prometheus.Metric, t *v1alpha1.AnalysisTemplate) {
				collectTemplate(ch, t.Namespace, t.Name, t.Spec.Metrics)
			},
		})
	}
	if clusterTemplates != nil {
		c.parts = append(c.parts, listCollector[*v1alpha1.ClusterAnalysisTemplate]{
			kind: "ClusterAnalysisTemplate",
			list: clusterTemplates.List,
			collect: func(ch chan<- prometheus.Metric, t *v1alpha1.ClusterAnalysisTemplate) {
				collectTemplate(ch, "", t.Name, t.Spec.Metrics)
			},
		})
	}
	return c
}

// Describe names both families once, whichever listers are present.
func (c *analysisTemplateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- analysisTemplateInfoDesc
	ch <- analysisTemplateMetricInfoDesc
}

func (c *analysisTemplateCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.parts {
		p.Collect(ch)
	}
}

func collectTemplate(ch chan<- prometheus.Metric, namespace, name string, metrics []v1alpha1.Metric) {
	ch <- prometheus.MustNewConstMetric(analysisTemplateInfoDesc, prometheus.GaugeValue, 1, namespace, name)
	for _, m := range uniqueMetrics(metrics) {
		ch <- prometheus.MustNewConstMetric(analysisTemplateMetricInfoDesc, prometheus.GaugeValue, 1, namespace, name, ProviderType(m), m.Name)
	}
}

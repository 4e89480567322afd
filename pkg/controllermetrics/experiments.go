package controllermetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

var (
	experimentInfoDesc = prometheus.NewDesc("experiment_info",
		"Always 1 per Experiment; the phase label is status.phase.",
		[]string{"namespace", "name", "phase"}, nil)
	experimentPhaseDesc = prometheus.NewDesc("experiment_phase",
		"Deprecated, use experiment_info: 1 for the Experiment's phase, 0 for each other phase.",
		[]string{"namespace", "name", "phase"}, nil)
)

// experimentPhases are the one-hot series of experiment_phase, in Argo
// Rollouts' order. There is no Failed series (a failed Experiment has every
// series at 0), and an empty phase counts as Pending.
var experimentPhases = []v1alpha1.AnalysisPhase{
	v1alpha1.AnalysisPhasePending,
	v1alpha1.AnalysisPhaseError,
	v1alpha1.AnalysisPhaseSuccessful,
	v1alpha1.AnalysisPhaseRunning,
	v1alpha1.AnalysisPhaseInconclusive,
}

// NewExperimentCollector reports experiment_info and experiment_phase for
// every Experiment in lister, at scrape time.
func NewExperimentCollector(lister rolloutlisters.ExperimentLister) prometheus.Collector {
	return listCollector[*v1alpha1.Experiment]{
		kind:    "Experiment",
		descs:   []*prometheus.Desc{experimentInfoDesc, experimentPhaseDesc},
		list:    lister.List,
		collect: collectExperiment,
	}
}

func collectExperiment(ch chan<- prometheus.Metric, ex *v1alpha1.Experiment) {
	ch <- prometheus.MustNewConstMetric(experimentInfoDesc, prometheus.GaugeValue, 1, ex.Namespace, ex.Name, string(ex.Status.Phase))
	for _, p := range experimentPhases {
		ch <- prometheus.MustNewConstMetric(experimentPhaseDesc, prometheus.GaugeValue,
			boolValue(samePhase(ex.Status.Phase, p)), ex.Namespace, ex.Name, string(p))
	}
}

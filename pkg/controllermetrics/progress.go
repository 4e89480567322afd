package controllermetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/progress"
)

// Serin's own metrics, which Argo Rollouts does not have. They carry the
// labels of rollout_info so that they join with it one to one.
var (
	rolloutCanaryWeightDesc = prometheus.NewDesc("serin_rollout_canary_weight",
		"Serin's own: the canary's share of traffic in percent (status.canary.weights with a traffic router, "+
			"otherwise the weight of the last setWeight step reached). Canary Rollouts only.",
		rolloutInfoLabels, nil)
	rolloutETADesc = prometheus.NewDesc("serin_rollout_estimated_seconds_to_completion",
		"Serin's own: the least seconds the Rollout's update still needs (pauses and analyses left, pods ready at once, "+
			"analyses passing); 0 once complete. Absent while aborted or waiting for a promote.",
		rolloutInfoLabels, nil)
)

var rolloutInfoLabels = []string{"namespace", "name", "strategy", "traffic_router", "phase"}

// NewRolloutProgressCollector reports serin_rollout_canary_weight and
// serin_rollout_estimated_seconds_to_completion for every Rollout in
// lister, at scrape time; now is the clock the ETA is computed against.
// Analyses count as instant: the Rollout alone does not say how long its
// templates measure.
func NewRolloutProgressCollector(lister rolloutlisters.RolloutLister, now func() time.Time) prometheus.Collector {
	return listCollector[*v1alpha1.Rollout]{
		kind:  "Rollout",
		descs: []*prometheus.Desc{rolloutCanaryWeightDesc, rolloutETADesc},
		list:  lister.List,
		collect: func(ch chan<- prometheus.Metric, ro *v1alpha1.Rollout) {
			collectRolloutProgress(ch, ro, now())
		},
	}
}

func collectRolloutProgress(ch chan<- prometheus.Metric, ro *v1alpha1.Rollout, now time.Time) {
	strategy, router := rolloutStrategy(ro)
	labels := []string{ro.Namespace, ro.Name, strategy, router, RolloutPhase(ro)}
	if w, ok := progress.CanaryWeight(ro); ok {
		ch <- prometheus.MustNewConstMetric(rolloutCanaryWeightDesc, prometheus.GaugeValue, float64(w), labels...)
	}
	if e := progress.Of(ro, now, nil); e.Known() {
		ch <- prometheus.MustNewConstMetric(rolloutETADesc, prometheus.GaugeValue, e.Remaining.Seconds(), labels...)
	}
}

package controllermetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

var (
	rolloutInfoDesc = prometheus.NewDesc("rollout_info",
		"Always 1 per Rollout; labels carry its strategy, traffic router and phase.",
		[]string{"namespace", "name", "strategy", "traffic_router", "phase"}, nil)
	rolloutAvailableDesc = prometheus.NewDesc("rollout_info_replicas_available",
		"Available pods of a Rollout (status.availableReplicas).", namespaceName, nil)
	rolloutUnavailableDesc = prometheus.NewDesc("rollout_info_replicas_unavailable",
		"Pods of a Rollout that are not available (status.replicas - status.availableReplicas).", namespaceName, nil)
	rolloutDesiredDesc = prometheus.NewDesc("rollout_info_replicas_desired",
		"Pods a Rollout asks for (spec.replicas, 1 when unset).", namespaceName, nil)
	rolloutUpdatedDesc = prometheus.NewDesc("rollout_info_replicas_updated",
		"Pods of a Rollout that run its current revision (status.updatedReplicas).", namespaceName, nil)
	rolloutPhaseDesc = prometheus.NewDesc("rollout_phase",
		"Deprecated, use rollout_info: 1 for the Rollout's phase, 0 for each other phase.",
		[]string{"namespace", "name", "strategy", "phase"}, nil)
)

// Phases reported for Rollouts. They are the metrics' own vocabulary,
// derived from conditions, not status.phase.
const (
	RolloutPhaseProgressing = "Progressing"
	RolloutPhaseCompleted   = "Completed"
	RolloutPhasePaused      = "Paused"
	RolloutPhaseTimeout     = "Timeout"
	RolloutPhaseError       = "Error"
	RolloutPhaseAbort       = "Abort"
	RolloutPhaseInvalidSpec = "InvalidSpec"
)

// deprecatedRolloutPhases are the series of rollout_phase, in Argo Rollouts'
// order. InvalidSpec has none: an invalid Rollout has every one at 0.
var deprecatedRolloutPhases = []string{
	RolloutPhaseCompleted, RolloutPhaseProgressing, RolloutPhasePaused,
	RolloutPhaseTimeout, RolloutPhaseError, RolloutPhaseAbort,
}

// NewRolloutCollector reports rollout_info, the rollout_info_replicas_*
// gauges and rollout_phase for every Rollout in lister, at scrape time.
func NewRolloutCollector(lister rolloutlisters.RolloutLister) prometheus.Collector {
	return listCollector[*v1alpha1.Rollout]{
		kind: "Rollout",
		descs: []*prometheus.Desc{rolloutInfoDesc, rolloutAvailableDesc, rolloutUnavailableDesc,
			rolloutDesiredDesc, rolloutUpdatedDesc, rolloutPhaseDesc},
		list:    lister.List,
		collect: collectRollout,
	}
}

func collectRollout(ch chan<- prometheus.Metric, ro *v1alpha1.Rollout) {
	gauge := func(d *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{ro.Namespace, ro.Name}, extra...)...)
	}
	strategy, router := rolloutStrategy(ro)
	phase := RolloutPhase(ro)

	gauge(rolloutInfoDesc, 1, strategy, router, phase)
	gauge(rolloutAvailableDesc, float64(ro.Status.AvailableReplicas))
	gauge(rolloutUnavailableDesc, float64(ro.Status.Replicas-ro.Status.AvailableReplicas))
	desired := v1alpha1.DefaultReplicas
	if ro.Spec.Replicas != nil {
		desired = *ro.Spec.Replicas
	}
	gauge(rolloutDesiredDesc, float64(desired))
	gauge(rolloutUpdatedDesc, float64(ro.Status.UpdatedReplicas))
	for _, p := range deprecatedRolloutPhases {
		gauge(rolloutPhaseDesc, boolValue(p == phase), strategy, p)
	}
}

// RolloutPhase is the phase label of a Rollout's metrics. It comes from the
// conditions: InvalidSpec whenever that condition is present, otherwise the
// Progressing condition's reason decides (new ReplicaSet available →
// Completed, paused → Paused, ReplicaSet create error → Error, progress
// deadline exceeded → Timeout, aborted → Abort), and anything else,
// including no condition yet, is Progressing.
func RolloutPhase(ro *v1alpha1.Rollout) string {
	phase := RolloutPhaseProgressing
	for _, c := range ro.Status.Conditions {
		switch c.Type {
		case v1alpha1.InvalidSpec:
			return RolloutPhaseInvalidSpec
		case v1alpha1.RolloutProgressing:
			switch c.Reason {
			case v1alpha1.ReasonNewRSAvailable:
				phase = RolloutPhaseCompleted
			case v1alpha1.ReasonRolloutPaused:
				phase = RolloutPhasePaused
			case v1alpha1.ReasonReplicaSetCreateError:
				phase = RolloutPhaseError
			case v1alpha1.ReasonProgressDeadline:
				phase = RolloutPhaseTimeout
			case v1alpha1.ReasonRolloutAborted:
				phase = RolloutPhaseAbort
			}
		}
	}
	return phase
}

// rolloutStrategy returns the strategy label (blueGreen, canary or none) and
// the traffic_router label. Argo Rollouts only names six routers, and when
// several are configured it reports the one latest in the list
// ALB, Ambassador, Istio, Nginx, SMI, AppMesh; Traefik, APISIX and plugins
// give an empty label. Kept as is so dashboards see the same values.
func rolloutStrategy(ro *v1alpha1.Rollout) (strategy, router string) {
	s := ro.Spec.Strategy
	switch {
	case s.BlueGreen != nil:
		return "blueGreen", ""
	case s.Canary == nil:
		return "none", ""
	}
	tr := s.Canary.TrafficRouting
	switch {
	case tr == nil:
		return "canary", ""
	case tr.AppMesh != nil:
		return "canary", "AppMesh"
	case tr.SMI != nil:
		return "canary", "SMI"
	case tr.Nginx != nil:
		return "canary", "Nginx"
	case tr.Istio != nil:
		return "canary", "Istio"
	case tr.Ambassador != nil:
		return "canary", "Ambassador"
	case tr.ALB != nil:
		return "canary", "ALB"
	}
	return "canary", ""
}

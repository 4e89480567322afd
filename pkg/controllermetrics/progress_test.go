package controllermetrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

// A canary paused 20s into a 1m pause step, with a 30s pause after an
// indefinite one still ahead, and one at 40% of an Istio split with a 5m
// pause left: the weight of each, and the ETA of the one not waiting on a
// person; a blue-green Rollout has no canary weight.
func TestRolloutProgressCollector(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	step := func(i int32) *int32 { return &i }
	steps := []v1alpha1.CanaryStep{{SetWeight: ptr(int32(20))}, {Pause: &v1alpha1.RolloutPause{Duration: d("1m")}},
		{Pause: &v1alpha1.RolloutPause{}}, {Pause: &v1alpha1.RolloutPause{Duration: d("30s")}}}
	waiting := &v1alpha1.Rollout{ObjectMeta: objMeta("shop", "api"), Spec: v1alpha1.RolloutSpec{
		Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: steps}}}}
	waiting.Status.CurrentStepIndex = step(1)
	waiting.Status.PauseConditions = []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep, StartTime: metav1.NewTime(now.Add(-20 * time.Second))}}
	routed := &v1alpha1.Rollout{ObjectMeta: objMeta("shop", "web"), Spec: v1alpha1.RolloutSpec{
		Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
			TrafficRouting: &v1alpha1.RolloutTrafficRouting{Istio: &v1alpha1.IstioTrafficRouting{}},
			Steps:          []v1alpha1.CanaryStep{{SetWeight: ptr(int32(40))}, {Pause: &v1alpha1.RolloutPause{Duration: d("5m")}}}}}}}
	routed.Status.CurrentStepIndex = step(1)
	routed.Status.Canary.Weights = &v1alpha1.TrafficWeights{Canary: v1alpha1.WeightDestination{Weight: 40}}
	routed.Status.Conditions = []v1alpha1.RolloutCondition{progressing(v1alpha1.ReasonRolloutPaused)}
	bg := &v1alpha1.Rollout{ObjectMeta: objMeta("shop", "bg"), Spec: v1alpha1.RolloutSpec{
		Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{}}}}
	bg.Status.CurrentPodHash, bg.Status.StableRS, bg.Status.Phase = "a", "a", v1alpha1.RolloutPhaseHealthy
	lister := rolloutlisters.NewRolloutLister(indexer(t, waiting, routed, bg))
	want := `
# HELP serin_rollout_canary_weight Serin's own: the canary's share of traffic in percent (status.canary.weights with a traffic router, otherwise the weight of the last setWeight step reached). Canary Rollouts only.
# TYPE serin_rollout_canary_weight gauge
serin_rollout_canary_weight{name="api",namespace="shop",phase="Progressing",strategy="canary",traffic_router=""} 20
serin_rollout_canary_weight{name="web",namespace="shop",phase="Paused",strategy="canary",traffic_router="Istio"} 40
# HELP serin_rollout_estimated_seconds_to_completion Serin's own: the least seconds the Rollout's update still needs (pauses and analyses left, pods ready at once, analyses passing); 0 once complete. Absent while aborted or waiting for a promote.
# TYPE serin_rollout_estimated_seconds_to_completion gauge
serin_rollout_estimated_seconds_to_completion{name="bg",namespace="shop",phase="Progressing",strategy="blueGreen",traffic_router=""} 0
serin_rollout_estimated_seconds_to_completion{name="web",namespace="shop",phase="Paused",strategy="canary",traffic_router="Istio"} 300
`
	c := NewRolloutProgressCollector(lister, func() time.Time { return now })
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

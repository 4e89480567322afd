package plan

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// The tables below pin the canary replica math, one documented behaviour per
// case. Each ReplicaSet is written as {spec.replicas, status.availableReplicas}.

// pods is a ReplicaSet's {spec.replicas, status.availableReplicas}.
type pods [2]int32

// replicaMathPtr returns a pointer to n.
func replicaMathPtr(n int32) *int32 { return &n }

// intOrPercent reads "25%" as a percentage, "3" as a pod count and "" as unset
// (so that the 25% default applies).
func intOrPercent(t *testing.T, s string) *intstr.IntOrString {
	t.Helper()
	if s == "" {
		return nil
	}
	if strings.HasSuffix(s, "%") {
		v := intstr.FromString(s)
		return &v
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("bad maxSurge/maxUnavailable %q in the table: %v", s, err)
	}
	v := intstr.FromInt32(int32(n))
	return &v
}

// sizedRS is a ReplicaSet with the given spec and available replicas.
func sizedRS(name string, p pods) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       appsv1.ReplicaSetSpec{Replicas: replicaMathPtr(p[0])},
		Status:     appsv1.ReplicaSetStatus{Replicas: p[0], AvailableReplicas: p[1]},
	}
}

// mathRollout is a canary of the given size, mid-update from "stable" to
// "canary", with the given maxSurge and maxUnavailable.
func mathRollout(t *testing.T, replicas int32, surge, unavailable string) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		Spec: v1alpha1.RolloutSpec{
			Replicas: replicaMathPtr(replicas),
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				MaxSurge:       intOrPercent(t, surge),
				MaxUnavailable: intOrPercent(t, unavailable),
			}},
		},
		Status: v1alpha1.RolloutStatus{StableRS: "stable", CurrentPodHash: "canary"},
	}
}

type basicCase struct {
	name               string
	replicas           int32
	surge, unavailable string
	weight             int32
	canary             pods
	stable             *pods // nil: there is no stable ReplicaSet
	older              []pods
	sameRS             bool // the stable ReplicaSet is the new one
	want               canaryCounts
}

var basicCases = []basicCase{
	{name: "maxSurge 25% of 10 replicas lets the canary reach 3 before the stable shrinks",
		replicas: 10, surge: "25%", unavailable: "0", weight: 30, stable: &pods{10, 10}, want: canaryCounts{3, 10}},
	{name: "maxSurge 1 and maxUnavailable 1 at 10% of 10 replicas swap one stable pod for one canary pod",
		replicas: 10, surge: "1", unavailable: "1", weight: 10, stable: &pods{10, 10}, want: canaryCounts{1, 9}},
	{name: "maxSurge 0 and maxUnavailable 5 at 30% shrink the stable to 7 before any canary pod starts",
		replicas: 10, surge: "0", unavailable: "5", weight: 30, stable: &pods{10, 10}, want: canaryCounts{0, 7}},
	{name: "maxSurge 0 and maxUnavailable 5 at 30% fill the 3 freed slots with canary pods once the stable is at 7",
		replicas: 10, surge: "0", unavailable: "5", weight: 30, stable: &pods{7, 7}, want: canaryCounts{3, 7}},
	{name: "maxSurge 50% and maxUnavailable 0 at 50% of 4 replicas add 2 canary pods beside all 4 stable",
		replicas: 4, surge: "50%", unavailable: "0", weight: 50, stable: &pods{4, 4}, want: canaryCounts{2, 4}},
	{name: "maxSurge 50% and maxUnavailable 0 at 50% of 4 replicas drop the stable to 2 once both canary pods are available",
		replicas: 4, surge: "50%", unavailable: "0", weight: 50, canary: pods{2, 2}, stable: &pods{4, 4}, want: canaryCounts{2, 2}},
	{name: "maxSurge 0 and maxUnavailable 0 still let one pod be unavailable so the update can move",
		replicas: 4, surge: "0", unavailable: "0", weight: 50, stable: &pods{4, 4}, want: canaryCounts{0, 3}},
	{name: "maxSurge 1 and maxUnavailable 0% at 30% of 7 replicas start one canary pod beside all 7 stable",
		replicas: 7, surge: "1", unavailable: "0%", weight: 30, stable: &pods{7, 7}, want: canaryCounts{1, 7}},
	{name: "maxSurge 1 and maxUnavailable 0% at 30% of 7 replicas take one stable pod once the canary pod is available",
		replicas: 7, surge: "1", unavailable: "0%", weight: 30, canary: pods{1, 1}, stable: &pods{7, 7}, want: canaryCounts{1, 6}},
	{name: "maxSurge 25% of 7 replicas rounds up to 2, so at 50% two canary pods start beside all 7 stable",
		replicas: 7, surge: "25%", unavailable: "0", weight: 50, stable: &pods{7, 7}, want: canaryCounts{2, 7}},
	{name: "maxUnavailable 25% of 7 replicas rounds down to 1, so without surge the stable gives up one pod",
		replicas: 7, surge: "0", unavailable: "25%", weight: 50, stable: &pods{7, 7}, want: canaryCounts{0, 6}},
	{name: "the default 25% maxSurge and maxUnavailable at 50% of 5 replicas start 2 canary pods and take 1 stable pod",
		replicas: 5, weight: 50, stable: &pods{5, 5}, want: canaryCounts{2, 4}},
	{name: "50% of 5 replicas with surge settles at 3 canary and 3 stable, rounding the tie up",
		replicas: 5, surge: "1", unavailable: "0", weight: 50, canary: pods{3, 3}, stable: &pods{3, 3}, want: canaryCounts{3, 3}},
	{name: "50% of 5 replicas without surge settles at 3 canary and 2 stable, rounding the tie up",
		replicas: 5, surge: "0", unavailable: "1", weight: 50, canary: pods{3, 3}, stable: &pods{2, 2}, want: canaryCounts{3, 2}},
	{name: "41% of 10 replicas settles at 4 canary and 6 stable, the split closest to 41%",
		replicas: 10, weight: 41, canary: pods{4, 4}, stable: &pods{6, 6}, want: canaryCounts{4, 6}},
	{name: "a 5% weight on 10 replicas still gets one canary pod, run in the surge beside all 10 stable",
		replicas: 10, surge: "1", unavailable: "1", weight: 5, stable: &pods{10, 10}, want: canaryCounts{1, 10}},
	{name: "a 1% weight on 3 replicas without surge still gets one canary pod once the stable has made room",
		replicas: 3, surge: "0", unavailable: "1", weight: 1, stable: &pods{2, 2}, want: canaryCounts{1, 2}},
	{name: "a 5% weight on a single replica with surge 1 runs one canary pod beside the stable",
		replicas: 1, surge: "1", unavailable: "0", weight: 5, stable: &pods{1, 1}, want: canaryCounts{1, 1}},
	{name: "a 5% weight on a single replica without surge may keep the canary at zero pods",
		replicas: 1, surge: "0", unavailable: "1", weight: 5, stable: &pods{1, 1}, want: canaryCounts{0, 1}},
	{name: "weight 100 grows the canary into the surge and shrinks the stable down to the availability floor",
		replicas: 5, weight: 100, canary: pods{3, 3}, stable: &pods{3, 3}, want: canaryCounts{4, 1}},
	{name: "weight 0 gives the stable its pods back first and shrinks the canary within maxUnavailable",
		replicas: 5, weight: 0, canary: pods{3, 3}, stable: &pods{3, 3}, want: canaryCounts{1, 4}},
	{name: "weight 0 drops canary pods that never became available at once",
		replicas: 4, surge: "1", unavailable: "1", weight: 0, canary: pods{2, 0}, stable: &pods{3, 3}, want: canaryCounts{0, 3}},
	{name: "a growing canary shrinks a stable with unavailable pods by its spec, so a crashing stable cannot block the update",
		replicas: 10, surge: "0", unavailable: "2", weight: 50, stable: &pods{10, 6}, want: canaryCounts{0, 8}},
	{name: "while an older ReplicaSet still has pods neither the canary nor the stable shrinks",
		replicas: 4, weight: 50, canary: pods{2, 2}, stable: &pods{4, 4}, older: []pods{{1, 1}}, want: canaryCounts{2, 4}},
	{name: "an older ReplicaSet's pods count against the surge, so the canary does not grow past it",
		replicas: 4, surge: "1", unavailable: "0", weight: 50, stable: &pods{4, 4}, older: []pods{{1, 1}}, want: canaryCounts{0, 4}},
	{name: "without a stable ReplicaSet the new one is sized to every replica at once",
		replicas: 5, weight: 20, want: canaryCounts{5, 0}},
	{name: "when the stable is the new ReplicaSet it alone grows to every replica within the surge",
		replicas: 5, weight: 20, canary: pods{3, 3}, sameRS: true, want: canaryCounts{5, 0}},
}

func TestBasicCanaryCounts(t *testing.T) {
	for _, tc := range basicCases {
		t.Run(tc.name, func(t *testing.T) {
			ro := mathRollout(t, tc.replicas, tc.surge, tc.unavailable)
			newRS := sizedRS("canary", tc.canary)
			var stableRS *appsv1.ReplicaSet
			switch {
			case tc.sameRS:
				stableRS = newRS
			case tc.stable != nil:
				stableRS = sizedRS("stable", *tc.stable)
			}
			var older []*appsv1.ReplicaSet
			for i, p := range tc.older {
				older = append(older, sizedRS(fmt.Sprintf("older-%d", i), p))
			}
			got := basicCanaryCounts(ro, tc.weight, newRS, stableRS, older)
			if got != tc.want {
				t.Errorf("canary/stable = %d/%d, want %d/%d", got.canary, got.stable, tc.want.canary, tc.want.stable)
			}
		})
	}
}

// routedRollout is a traffic-routed canary of the given size, mid-update from
// "stable" to "canary".
func routedRollout(replicas int32, minPods *int32, dynamic bool) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		Spec: v1alpha1.RolloutSpec{
			Replicas: replicaMathPtr(replicas),
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				TrafficRouting:       &v1alpha1.RolloutTrafficRouting{},
				MinPodsPerReplicaSet: minPods,
				DynamicStableScale:   dynamic,
			}},
		},
		Status: v1alpha1.RolloutStatus{StableRS: "stable", CurrentPodHash: "canary"},
	}
}

// routedWeights are the weights a router reports in status.canary.weights.
func routedWeights(canary, stable int32) *v1alpha1.TrafficWeights {
	return &v1alpha1.TrafficWeights{
		Canary: v1alpha1.WeightDestination{Weight: canary},
		Stable: v1alpha1.WeightDestination{Weight: stable},
	}
}

type routedCase struct {
	name      string
	replicas  int32
	minPods   *int32
	dynamic   bool
	abort     bool
	maxWeight int32 // 0: the default of 100
	explicit  *int32
	weight    int32
	weights   *v1alpha1.TrafficWeights
	want      canaryCounts
}

var routedCases = []routedCase{
	{name: "20% of 10 replicas is 2 canary pods and the stable keeps all 10",
		replicas: 10, weight: 20, want: canaryCounts{2, 10}},
	{name: "a 1% weight on 10 replicas rounds the canary up to one pod, never zero",
		replicas: 10, weight: 1, want: canaryCounts{1, 10}},
	{name: "33% of 5 replicas rounds the canary up to 2 pods",
		replicas: 5, weight: 33, want: canaryCounts{2, 5}},
	{name: "weight 0 leaves the canary at zero pods",
		replicas: 10, weight: 0, want: canaryCounts{0, 10}},
	{name: "weight 100 runs every replica on both sides",
		replicas: 10, weight: 100, want: canaryCounts{10, 10}},
	{name: "a weight out of maxTrafficWeight 1000 is scaled to it: 250 of 1000 on 4 replicas is one canary pod",
		replicas: 4, maxWeight: 1000, weight: 250, want: canaryCounts{1, 4}},
	{name: "setCanaryScale replicas 3 sizes the canary to 3 whatever the weight",
		replicas: 10, explicit: replicaMathPtr(3), want: canaryCounts{3, 10}},
	{name: "setCanaryScale replicas 15 on 10 replicas runs 15 canary pods beside all 10 stable",
		replicas: 10, explicit: replicaMathPtr(15), want: canaryCounts{15, 10}},
	{name: "setCanaryScale replicas 0 keeps the canary at zero",
		replicas: 10, explicit: replicaMathPtr(0), want: canaryCounts{0, 10}},
	{name: "minPodsPerReplicaSet 2 raises a one-pod canary to 2",
		replicas: 10, minPods: replicaMathPtr(2), weight: 10, want: canaryCounts{2, 10}},
	{name: "minPodsPerReplicaSet above spec.replicas is capped at spec.replicas",
		replicas: 2, minPods: replicaMathPtr(3), weight: 10, want: canaryCounts{2, 2}},
	{name: "minPodsPerReplicaSet does not raise a zero-weight canary",
		replicas: 10, minPods: replicaMathPtr(2), weight: 0, want: canaryCounts{0, 10}},
	{name: "without dynamicStableScale minPodsPerReplicaSet does not raise a setCanaryScale replica count",
		replicas: 10, minPods: replicaMathPtr(2), explicit: replicaMathPtr(1), want: canaryCounts{1, 10}},
	{name: "dynamicStableScale at 30% of 10 replicas sizes the stable for the 70% it keeps",
		replicas: 10, dynamic: true, weight: 30, want: canaryCounts{3, 7}},
	{name: "dynamicStableScale keeps the stable sized for the traffic it still has",
		replicas: 10, dynamic: true, weight: 30, weights: routedWeights(0, 100), want: canaryCounts{3, 10}},
	{name: "dynamicStableScale at 50% of 7 replicas rounds both sides up to 4",
		replicas: 7, dynamic: true, weight: 50, want: canaryCounts{4, 4}},
	{name: "dynamicStableScale at weight 100 scales the stable to zero",
		replicas: 10, dynamic: true, weight: 100, weights: routedWeights(100, 0), want: canaryCounts{10, 0}},
	{name: "dynamicStableScale with minPodsPerReplicaSet 2 keeps 2 stable pods at 95%",
		replicas: 10, dynamic: true, minPods: replicaMathPtr(2), weight: 95, want: canaryCounts{10, 2}},
	{name: "dynamicStableScale with minPodsPerReplicaSet 3 raises a setCanaryScale of 2 to 3 and keeps the stable whole",
		replicas: 10, dynamic: true, minPods: replicaMathPtr(3), explicit: replicaMathPtr(2), want: canaryCounts{3, 10}},
	{name: "dynamicStableScale while aborting keeps the canary sized for the traffic it still has",
		replicas: 10, dynamic: true, abort: true, weight: 0, weights: routedWeights(60, 40), want: canaryCounts{6, 10}},
	{name: "dynamicStableScale without an abort shrinks the canary ahead of its traffic",
		replicas: 10, dynamic: true, weight: 20, weights: routedWeights(60, 40), want: canaryCounts{2, 8}},
}

func TestRoutedCanaryCounts(t *testing.T) {
	for _, tc := range routedCases {
		t.Run(tc.name, func(t *testing.T) {
			ro := routedRollout(tc.replicas, tc.minPods, tc.dynamic)
			ro.Status.Abort = tc.abort
			if tc.maxWeight != 0 {
				ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = replicaMathPtr(tc.maxWeight)
			}
			got := routedCanaryCounts(ro, tc.explicit, tc.weight, tc.weights, tc.abort)
			if got != tc.want {
				t.Errorf("canary/stable = %d/%d, want %d/%d", got.canary, got.stable, tc.want.canary, tc.want.stable)
			}
		})
	}
}

func scaleStep(s v1alpha1.SetCanaryScale) v1alpha1.CanaryStep {
	return v1alpha1.CanaryStep{SetCanaryScale: &s}
}

func weightStep(w int32) v1alpha1.CanaryStep { return v1alpha1.CanaryStep{SetWeight: &w} }

var pauseStep = v1alpha1.CanaryStep{Pause: &v1alpha1.RolloutPause{}}

type stepsCase struct {
	name        string
	steps       []v1alpha1.CanaryStep
	index       int32
	promoteFull bool
	abort       bool
	abortDelay  *int32
	dynamic     bool
	weights     *v1alpha1.TrafficWeights
	want        canaryCounts
}

// threeThenMatch scales the canary to 3 pods, then back to its weight.
var threeThenMatch = []v1alpha1.CanaryStep{
	scaleStep(v1alpha1.SetCanaryScale{Replicas: replicaMathPtr(3)}), weightStep(20),
	scaleStep(v1alpha1.SetCanaryScale{MatchTrafficWeight: true}), weightStep(60),
}

var stepsCases = []stepsCase{
	{name: "setWeight 90 after setCanaryScale weight 10 leaves one canary pod to take 90% of the traffic",
		steps: []v1alpha1.CanaryStep{scaleStep(v1alpha1.SetCanaryScale{Weight: replicaMathPtr(10)}), weightStep(90), pauseStep},
		index: 1, want: canaryCounts{1, 10}},
	{name: "setCanaryScale weight 25 of 10 replicas rounds up to 3 canary pods",
		steps: []v1alpha1.CanaryStep{weightStep(5), scaleStep(v1alpha1.SetCanaryScale{Weight: replicaMathPtr(25)})},
		index: 1, want: canaryCounts{3, 10}},
	{name: "setCanaryScale replicas 3 stays in force through a later setWeight",
		steps: threeThenMatch, index: 1, want: canaryCounts{3, 10}},
	{name: "matchTrafficWeight sizes the canary by the last setWeight again",
		steps: threeThenMatch, index: 2, want: canaryCounts{2, 10}},
	{name: "after matchTrafficWeight a setWeight 60 is 6 canary pods",
		steps: threeThenMatch, index: 3, want: canaryCounts{6, 10}},
	{name: "once every step is done the canary runs every replica",
		steps: threeThenMatch, index: 4, want: canaryCounts{10, 10}},
	{name: "a full promotion ignores setCanaryScale and runs every replica",
		steps: threeThenMatch, index: 1, promoteFull: true, want: canaryCounts{10, 10}},
	{name: "an abort with the default abortScaleDownDelaySeconds drops setCanaryScale and the canary goes to zero",
		steps: threeThenMatch, index: 1, abort: true, want: canaryCounts{0, 10}},
	{name: "an abort with abortScaleDownDelaySeconds 0 keeps the setCanaryScale pods",
		steps: threeThenMatch, index: 1, abort: true, abortDelay: replicaMathPtr(0), want: canaryCounts{3, 10}},
	// DIFFERS FROM UPSTREAM: since v1.9.0 Argo Rollouts, when a rollout with
	// dynamicStableScale is aborted, steps the desired weight back through
	// the setWeight steps (from the stable's available pods), so with 4 stable
	// and 6 canary pods available it wants weight 20 here and sizes the stable
	// to 8, not 10; serin wants weight 0 at once and asks for all 10 stable
	// pods beside the 6 canary pods the traffic still needs.
	{name: "an abort with dynamicStableScale asks for the whole stable at once while the canary keeps its traffic's pods",
		steps: []v1alpha1.CanaryStep{weightStep(20), pauseStep, weightStep(60), pauseStep},
		index: 3, abort: true, dynamic: true, weights: routedWeights(60, 40), want: canaryCounts{6, 10}},
}

func TestRoutedCanaryCountsFollowTheSteps(t *testing.T) {
	for _, tc := range stepsCases {
		t.Run(tc.name, func(t *testing.T) {
			ro := routedRollout(10, nil, tc.dynamic)
			c := ro.Spec.Strategy.Canary
			c.Steps, c.AbortScaleDownDelaySeconds = tc.steps, tc.abortDelay
			ro.Status.CurrentStepIndex = replicaMathPtr(tc.index)
			ro.Status.PromoteFull, ro.Status.Abort = tc.promoteFull, tc.abort
			explicit, weight := canaryScaleOrWeight(ro, newStepView(ro), tc.abort)
			got := routedCanaryCounts(ro, explicit, weight, tc.weights, tc.abort)
			if got != tc.want {
				t.Errorf("canary/stable = %d/%d, want %d/%d", got.canary, got.stable, tc.want.canary, tc.want.stable)
			}
		})
	}
}

func TestWithoutATrafficRouterSetCanaryScaleIsIgnored(t *testing.T) {
	ro := mathRollout(t, 10, "", "")
	ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{weightStep(40), scaleStep(v1alpha1.SetCanaryScale{Replicas: replicaMathPtr(1)})}
	ro.Status.CurrentStepIndex = replicaMathPtr(1)
	explicit, weight := canaryScaleOrWeight(ro, newStepView(ro), false)
	if explicit != nil || weight != 40 {
		t.Fatalf("canaryScaleOrWeight = %v, %d; want no explicit count and the setWeight of 40", explicit, weight)
	}
	got := basicCanaryCounts(ro, weight, sizedRS("canary", pods{4, 4}), sizedRS("stable", pods{6, 6}), nil)
	if got != (canaryCounts{4, 6}) {
		t.Errorf("canary/stable = %d/%d, want 4/6", got.canary, got.stable)
	}
}

type balanceCase struct {
	name                string
	drain, keep         *pods // nil: no such ReplicaSet
	drainCount, keepCnt int32
	ceiling, floor      int32
	wantDrain, wantKeep int32
}

var balanceCases = []balanceCase{
	{name: "a pair within the ceiling and above the floor is left as it is",
		drain: &pods{3, 3}, keep: &pods{2, 2}, drainCount: 3, keepCnt: 2, ceiling: 6, floor: 4, wantDrain: 3, wantKeep: 2},
	{name: "a pair 2 pods over the ceiling gives them back from the kept side while availability stays at the floor",
		drain: &pods{3, 2}, keep: &pods{6, 5}, drainCount: 3, keepCnt: 6, ceiling: 7, floor: 6, wantDrain: 3, wantKeep: 4},
	{name: "when the drained side's pods are unavailable the kept side keeps one more available pod and the drained side gives up one",
		drain: &pods{3, 1}, keep: &pods{6, 5}, drainCount: 3, keepCnt: 6, ceiling: 7, floor: 6, wantDrain: 2, wantKeep: 5},
	{name: "the kept side restores only the available pods the floor needs, and the drained side makes room for them",
		drain: &pods{2, 0}, keep: &pods{6, 6}, drainCount: 2, keepCnt: 4, ceiling: 5, floor: 4, wantDrain: 1, wantKeep: 4},
	{name: "the kept side restores no pod it does not have available, even below the floor",
		drain: &pods{2, 0}, keep: &pods{4, 3}, drainCount: 2, keepCnt: 4, ceiling: 5, floor: 4, wantDrain: 2, wantKeep: 3},
	{name: "without a kept ReplicaSet the counts are left as they are, even over the ceiling",
		drain: &pods{3, 3}, drainCount: 3, ceiling: 2, floor: 1, wantDrain: 3, wantKeep: 0},
	{name: "without a drained ReplicaSet the kept side is cut back to the ceiling",
		keep: &pods{7, 4}, keepCnt: 7, ceiling: 5, floor: 4, wantDrain: 0, wantKeep: 5},
}

func TestBalance(t *testing.T) {
	for _, tc := range balanceCases {
		t.Run(tc.name, func(t *testing.T) {
			var drain, keep *appsv1.ReplicaSet
			if tc.drain != nil {
				drain = sizedRS("drain", *tc.drain)
			}
			if tc.keep != nil {
				keep = sizedRS("keep", *tc.keep)
			}
			gotDrain, gotKeep := balance(drain, keep, tc.drainCount, tc.keepCnt, tc.ceiling, tc.floor)
			if gotDrain != tc.wantDrain || gotKeep != tc.wantKeep {
				t.Errorf("drain/keep = %d/%d, want %d/%d", gotDrain, gotKeep, tc.wantDrain, tc.wantKeep)
			}
		})
	}
}

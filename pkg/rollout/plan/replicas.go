package plan

import (
	"math"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// specReplicas is spec.replicas, 1 when unset.
func specReplicas(ro *v1alpha1.Rollout) int32 {
	if ro.Spec.Replicas == nil {
		return v1alpha1.DefaultReplicas
	}
	return *ro.Spec.Replicas
}

// rsReplicas is a ReplicaSet's spec.replicas, 0 for a missing ReplicaSet.
func rsReplicas(rs *appsv1.ReplicaSet) int32 {
	if rs == nil || rs.Spec.Replicas == nil {
		return 0
	}
	return *rs.Spec.Replicas
}

func rsAvailable(rs *appsv1.ReplicaSet) int32 {
	if rs == nil {
		return 0
	}
	return rs.Status.AvailableReplicas
}

// sumReplicas adds up spec.replicas of the ReplicaSets.
func sumReplicas(rss ...*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += rsReplicas(rs)
	}
	return n
}

// sumActual, sumReady and sumAvailable add up the pods the ReplicaSets report.
func sumActual(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.Replicas
		}
	}
	return n
}

func sumReady(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.ReadyReplicas
		}
	}
	return n
}

func sumAvailable(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += rsAvailable(rs)
	}
	return n
}

// scaledValue resolves an int-or-percent against total. Like Argo Rollouts, a
// string without a percent sign is read as a percentage.
func scaledValue(v *intstr.IntOrString, def string, total int32, roundUp bool) int32 {
	value := intstr.FromString(def)
	if v != nil {
		value = *v
	}
	if value.Type == intstr.Int {
		return value.IntVal
	}
	pct, err := percent(value.StrVal)
	if err != nil {
		return 0 // refused by validation (boundedIntOrPercent) before any use
	}
	exact := float64(pct) * float64(total) / 100
	if roundUp {
		return int32(math.Ceil(exact))
	}
	return int32(math.Floor(exact))
}

// percent reads the string form of an int-or-percent: a number, the % sign
// optional, as Argo Rollouts reads it.
func percent(s string) (int, error) {
	return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "%"))
}

// surgeAndUnavailable are the strategy's maxSurge and maxUnavailable in
// pods. For a canary, when both come to zero, one pod may be unavailable so
// the update can move.
func surgeAndUnavailable(ro *v1alpha1.Rollout) (surge, unavailable int32) {
	c := ro.Spec.Strategy.Canary
	replicas := specReplicas(ro)
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil && replicas > 0 {
		// Blue-green has no surge; maxUnavailable bounds pod restarts.
		return 0, min(scaledValue(bg.MaxUnavailable, v1alpha1.DefaultMaxUnavailable, replicas, false), replicas)
	}
	if c == nil || replicas == 0 {
		return 0, 0
	}
	surge = scaledValue(c.MaxSurge, v1alpha1.DefaultMaxSurge, replicas, true)
	unavailable = scaledValue(c.MaxUnavailable, v1alpha1.DefaultMaxUnavailable, replicas, false)
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	if unavailable > replicas {
		unavailable = replicas
	}
	return surge, unavailable
}

// maxTrafficWeight is the total that canary weights are out of.
func maxTrafficWeight(ro *v1alpha1.Rollout) int32 {
	if c := ro.Spec.Strategy.Canary; c != nil && c.TrafficRouting != nil && c.TrafficRouting.MaxTrafficWeight != nil {
		return *c.TrafficRouting.MaxTrafficWeight
	}
	return v1alpha1.DefaultMaxTrafficWeight
}

// canaryScaleOrWeight is what the canary should be sized by: an explicit pod
// count from a setCanaryScale step, or else a weight.
func canaryScaleOrWeight(ro *v1alpha1.Rollout, steps stepView, aborting bool) (*int32, int32) {
	s := ro.Status
	if s.PromoteFull || s.StableRS == "" || s.CurrentPodHash == s.StableRS {
		return nil, maxTrafficWeight(ro)
	}
	if scale := steps.canaryScale(aborting); scale != nil {
		if scale.Replicas != nil {
			return scale.Replicas, 0
		}
		if scale.Weight != nil {
			return nil, *scale.Weight
		}
	}
	return nil, steps.setWeight(aborting)
}

// canaryCounts are the replica counts the canary and stable ReplicaSets
// should have now.
type canaryCounts struct {
	canary, stable int32
}

// basicCanaryCounts sizes a canary without a traffic router: the canary's
// share of pods is its share of traffic, moved within maxSurge and
// maxUnavailable, after older ReplicaSets have been drained.
func basicCanaryCounts(ro *v1alpha1.Rollout, weight int32, newRS, stableRS *appsv1.ReplicaSet, older []*appsv1.ReplicaSet) canaryCounts {
	replicas := specReplicas(ro)
	surge, unavailable := surgeAndUnavailable(ro)
	want := approximateSplit(replicas, weight, maxTrafficWeight(ro), surge)

	out := canaryCounts{canary: rsReplicas(newRS)}
	hasStable := stableRS != nil && (newRS == nil || newRS.Name != stableRS.Name)
	if hasStable {
		out.stable = rsReplicas(stableRS)
	} else {
		want = canaryCounts{canary: replicas}
	}

	ceiling := replicas + surge
	all := append(append([]*appsv1.ReplicaSet{}, older...), newRS)
	if hasStable {
		all = append(all, stableRS)
	}
	room := ceiling - sumReplicas(all...)

	// Grow the stable side first, then the canary, within the surge.
	if hasStable && out.stable < want.stable && room > 0 {
		grow := min(room, want.stable-out.stable)
		out.stable += grow
		room -= grow
	}
	if newRS != nil && out.canary < want.canary && room > 0 {
		out.canary += min(room, want.canary-out.canary)
	}

	// While older ReplicaSets still have pods, they are drained before the
	// canary and stable shrink.
	if sumReplicas(older...) > 0 {
		return out
	}
	floor := replicas - unavailable
	growing := newRS == nil || want.canary >= rsReplicas(newRS)
	countable := scaleDownCountable(newRS, !growing) + scaleDownCountable(stableRS, growing)
	if countable <= floor {
		return out
	}
	excess := countable - floor
	switch {
	case !growing:
		out.canary = shrinkToward(newRS, want.canary, excess, out.canary)
		out.canary, out.stable = balance(newRS, stableRS, out.canary, out.stable, ceiling, floor)
	case hasStable:
		out.stable = shrinkToward(stableRS, want.stable, excess, out.stable)
		out.stable, out.canary = balance(stableRS, newRS, out.stable, out.canary, ceiling, floor)
	}
	return out
}

// approximateSplit picks the canary and stable counts whose ratio comes
// closest to weight/maxWeight, trying the rounded-up and rounded-down canary
// size, with and without one surge pod. A weight strictly between 0 and the
// maximum never rounds the canary down to nothing.
func approximateSplit(replicas, weight, maxWeight, surge int32) canaryCounts {
	if replicas == 0 {
		return canaryCounts{}
	}
	exact := float64(replicas) * float64(weight) / float64(maxWeight)
	up, down := int32(math.Ceil(exact)), int32(math.Floor(exact))
	zeroAllowed := weight == maxWeight || weight == 0 || (replicas == 1 && surge == 0)
	tie := func(total int32) bool {
		_, frac := math.Modf(float64(total) * float64(weight) / float64(maxWeight))
		return frac == 0.5
	}
	type option struct{ canary, total int32 }
	var options []option
	if up < replicas || zeroAllowed {
		options = append(options, option{up, replicas})
	}
	if !tie(replicas) && (down != 0 || zeroAllowed) {
		options = append(options, option{down, replicas})
	}
	if surge > 0 {
		options = append(options, option{up, replicas + 1})
		if !tie(replicas+1) && (down != 0 || zeroAllowed) {
			options = append(options, option{down, replicas + 1})
		}
	}
	if len(options) == 0 {
		return canaryCounts{canary: 0, stable: replicas}
	}
	best, bestDelta := options[0], math.Inf(1)
	for _, o := range options {
		delta := math.Abs(float64(o.canary)*float64(maxWeight)/float64(o.total) - float64(weight))
		if delta < bestDelta {
			best, bestDelta = o, delta
		}
	}
	return canaryCounts{canary: best.canary, stable: best.total - best.canary}
}

// scaleDownCountable is how many of a ReplicaSet's pods count toward the
// availability floor when choosing what to scale down.
func scaleDownCountable(rs *appsv1.ReplicaSet, ignoreAvailability bool) int32 {
	if rs == nil {
		return 0
	}
	if rsReplicas(rs) < rs.Status.AvailableReplicas || ignoreAvailability {
		return rsReplicas(rs)
	}
	return rs.Status.AvailableReplicas
}

// shrinkToward lowers a ReplicaSet by up to excess pods but not below want.
func shrinkToward(rs *appsv1.ReplicaSet, want, excess, current int32) int32 {
	if rs != nil && rsReplicas(rs) > want {
		return max(want, rsReplicas(rs)-excess)
	}
	return current
}

// balance keeps the pair of counts under the surge ceiling and, where the
// draining side's availability falls short of the floor, keeps enough of the
// other side's available pods.
func balance(drain, keep *appsv1.ReplicaSet, drainCount, keepCount, ceiling, floor int32) (int32, int32) {
	over := max(0, keepCount+drainCount-ceiling)
	available := int32(0)
	if drain != nil {
		available += min(drain.Status.AvailableReplicas, drainCount)
	}
	if keep != nil {
		keepCount -= over
		available += min(keep.Status.AvailableReplicas, keepCount)
		spare := max(0, keep.Status.AvailableReplicas-keepCount)
		keepCount += min(spare, max(0, floor-available))
		drainCount -= max(0, keepCount+drainCount-ceiling)
	}
	return drainCount, keepCount
}

// routedCanaryCounts sizes a canary behind a traffic router: the canary gets
// enough pods for its weight (or its setCanaryScale), and the stable side
// keeps every pod unless dynamicStableScale shrinks it with its traffic.
func routedCanaryCounts(ro *v1alpha1.Rollout, explicit *int32, weight int32, weights *v1alpha1.TrafficWeights, aborting bool) canaryCounts {
	c := ro.Spec.Strategy.Canary
	replicas := specReplicas(ro)
	maxWeight := maxTrafficWeight(ro)
	var out canaryCounts
	if explicit != nil {
		out.canary = *explicit
	} else {
		out.canary = withMinPods(ro, weightToReplicas(replicas, weight, maxWeight))
	}
	if !c.DynamicStableScale {
		out.stable = replicas
		return out
	}
	out.stable = weightToReplicas(replicas, maxWeight-weight, maxWeight)
	if weights != nil {
		out.stable = max(out.stable, weightToReplicas(replicas, weights.Stable.Weight, maxWeight))
		if aborting {
			out.canary = max(out.canary, weightToReplicas(replicas, weights.Canary.Weight, maxWeight))
		}
	}
	out.canary = withMinPods(ro, out.canary)
	out.stable = withMinPods(ro, out.stable)
	return out
}

func weightToReplicas(replicas, weight, maxWeight int32) int32 {
	return int32(math.Ceil(float64(weight) * float64(replicas) / float64(maxWeight)))
}

// withMinPods raises a non-zero count to minPodsPerReplicaSet.
func withMinPods(ro *v1alpha1.Rollout, n int32) int32 {
	c := ro.Spec.Strategy.Canary
	if n == 0 || c == nil || c.MinPodsPerReplicaSet == nil || c.TrafficRouting == nil {
		return n
	}
	return max(n, min(*c.MinPodsPerReplicaSet, specReplicas(ro)))
}

// thresholdMet tells whether enough of the canary is available to move on.
func thresholdMet(t *v1alpha1.ReplicaProgressThreshold, rs *appsv1.ReplicaSet, desired int32) bool {
	if t == nil || rs == nil || t.Value < 0 {
		return rs != nil && desired == rsReplicas(rs) && desired == rs.Status.AvailableReplicas
	}
	if t.Type == v1alpha1.ProgressTypePercentage {
		if desired == 0 {
			return true
		}
		pct := float64(rs.Status.AvailableReplicas) / float64(desired) * 100
		return pct >= float64(t.Value) || math.Abs(pct-float64(t.Value)) <= 1e-10
	}
	return rs.Status.AvailableReplicas >= t.Value
}

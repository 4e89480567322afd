package plan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Bounds on the numbers of a spec that reach replica, weight and time
// arithmetic. The CRDs accept any int32, and a Rollout outside them is
// InvalidSpec naming the field, so that every count the plan computes stays
// within [0, replicas+surge] and every weight within [0, maxTrafficWeight],
// far from int32 overflow.
const (
	// MaxReplicas bounds spec.replicas and every explicit pod count:
	// several times the pods a whole cluster can run.
	MaxReplicas = 1_000_000
	// MaxTrafficWeightTotal bounds trafficRouting.maxTrafficWeight.
	MaxTrafficWeightTotal = 1_000_000
	// MaxSurgePercent bounds a percentage maxSurge; maxUnavailable is at
	// most 100%.
	MaxSurgePercent = 1000
	// MaxDelaySeconds bounds the delays and timeouts in seconds: 30 days.
	MaxDelaySeconds = 30 * 24 * 3600
)

// validateBounds checks every bounded number of the spec.
func validateBounds(ro *v1alpha1.Rollout) field.ErrorList {
	spec := field.NewPath("spec")
	errs := inRange(nil, spec.Child("replicas"), ro.Spec.Replicas, 0, MaxReplicas)
	errs = inRange(errs, spec.Child("progressDeadlineSeconds"), ro.Spec.ProgressDeadlineSeconds, 0, MaxDelaySeconds)
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		path := spec.Child("strategy", "blueGreen")
		errs = append(errs, boundedIntOrPercent(path.Child("maxUnavailable"), bg.MaxUnavailable, 100)...)
		errs = inRange(errs, path.Child("previewReplicaCount"), bg.PreviewReplicaCount, 0, MaxReplicas)
		auto := bg.AutoPromotionSeconds
		errs = inRange(errs, path.Child("autoPromotionSeconds"), &auto, 0, MaxDelaySeconds)
		errs = inRange(errs, path.Child("scaleDownDelaySeconds"), bg.ScaleDownDelaySeconds, 0, MaxDelaySeconds)
		errs = inRange(errs, path.Child("abortScaleDownDelaySeconds"), bg.AbortScaleDownDelaySeconds, 0, MaxDelaySeconds)
	}
	if c := ro.Spec.Strategy.Canary; c != nil {
		errs = append(errs, canaryBounds(ro, c, spec.Child("strategy", "canary"))...)
	}
	return errs
}

func canaryBounds(ro *v1alpha1.Rollout, c *v1alpha1.CanaryStrategy, path *field.Path) field.ErrorList {
	errs := boundedIntOrPercent(path.Child("maxSurge"), c.MaxSurge, MaxSurgePercent)
	errs = append(errs, boundedIntOrPercent(path.Child("maxUnavailable"), c.MaxUnavailable, 100)...)
	errs = inRange(errs, path.Child("scaleDownDelaySeconds"), c.ScaleDownDelaySeconds, 0, MaxDelaySeconds)
	errs = inRange(errs, path.Child("abortScaleDownDelaySeconds"), c.AbortScaleDownDelaySeconds, 0, MaxDelaySeconds)
	if tr := c.TrafficRouting; tr != nil {
		errs = inRange(errs, path.Child("trafficRouting", "maxTrafficWeight"), tr.MaxTrafficWeight, 1, MaxTrafficWeightTotal)
	}
	maxWeight := min(max(maxTrafficWeight(ro), 1), MaxTrafficWeightTotal)
	for i, s := range c.Steps {
		step := path.Child("steps").Index(i)
		if sc := s.SetCanaryScale; sc != nil {
			errs = inRange(errs, step.Child("setCanaryScale", "replicas"), sc.Replicas, 0, MaxReplicas)
			errs = inRange(errs, step.Child("setCanaryScale", "weight"), sc.Weight, 0, 100)
		}
		if e := s.Experiment; e != nil {
			for j, t := range e.Templates {
				tpl := step.Child("experiment", "templates").Index(j)
				errs = inRange(errs, tpl.Child("replicas"), t.Replicas, 0, MaxReplicas)
				errs = inRange(errs, tpl.Child("weight"), t.Weight, 0, maxWeight)
			}
		}
	}
	return errs
}

// inRange adds an error when v is set and outside [lo, hi].
func inRange(errs field.ErrorList, path *field.Path, v *int32, lo, hi int32) field.ErrorList {
	if v != nil && (*v < lo || *v > hi) {
		errs = append(errs, field.Invalid(path, *v, fmt.Sprintf("must be between %d and %d", lo, hi)))
	}
	return errs
}

// boundedIntOrPercent checks a pod count or percentage: a count within
// [0, MaxReplicas], or a percentage (read by percent, as scaledValue reads
// it) within [0, maxPercent].
func boundedIntOrPercent(path *field.Path, v *intstr.IntOrString, maxPercent int) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.Int {
		return inRange(nil, path, &v.IntVal, 0, MaxReplicas)
	}
	pct, err := percent(v.StrVal)
	if err != nil {
		return field.ErrorList{field.Invalid(path, v.StrVal, "must be a pod count or a percentage")}
	}
	if pct < 0 || pct > maxPercent {
		return field.ErrorList{field.Invalid(path, v.StrVal, fmt.Sprintf("must be between 0%% and %d%%", maxPercent))}
	}
	return nil
}

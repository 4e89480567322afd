package plan

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Numbers that reach replica or weight arithmetic are bounded: a Rollout
// outside the bounds is refused naming the field, before any count is
// computed from it.

func int32p(v int32) *int32 { return &v }

// behindNginx routes the canary through nginx, which takes maxTrafficWeight.
func behindNginx(ro *v1alpha1.Rollout) {
	c := ro.Spec.Strategy.Canary
	c.StableService, c.CanaryService = "demo-stable", "demo-canary"
	c.TrafficRouting = &v1alpha1.RolloutTrafficRouting{Nginx: &v1alpha1.NginxTrafficRouting{StableIngress: "demo"}}
}

func TestOutOfBoundsNumbersAreInvalidSpecNamingTheField(t *testing.T) {
	nginx := behindNginx
	for name, tc := range map[string]struct {
		edit  func(*v1alpha1.Rollout)
		field string
	}{
		"replicas at the int32 limit": {func(ro *v1alpha1.Rollout) { ro.Spec.Replicas = int32p(2147483647) }, "spec.replicas"},
		"maxTrafficWeight of zero": {func(ro *v1alpha1.Rollout) {
			nginx(ro)
			ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = int32p(0)
		}, "spec.strategy.canary.trafficRouting.maxTrafficWeight"},
		"negative maxTrafficWeight": {func(ro *v1alpha1.Rollout) {
			nginx(ro)
			ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = int32p(-5)
		}, "spec.strategy.canary.trafficRouting.maxTrafficWeight"},
		"setCanaryScale replicas beyond the bound": {func(ro *v1alpha1.Rollout) {
			nginx(ro)
			ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{{SetCanaryScale: &v1alpha1.SetCanaryScale{Replicas: int32p(2147483647)}}}
		}, "spec.strategy.canary.steps[0].setCanaryScale.replicas"},
		"negative setCanaryScale weight": {func(ro *v1alpha1.Rollout) {
			nginx(ro)
			ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{{SetCanaryScale: &v1alpha1.SetCanaryScale{Weight: int32p(-1)}}}
		}, "spec.strategy.canary.steps[0].setCanaryScale.weight"},
		"maxSurge beyond the bound": {func(ro *v1alpha1.Rollout) {
			v := intstr.FromInt32(2147483647)
			ro.Spec.Strategy.Canary.MaxSurge = &v
		}, "spec.strategy.canary.maxSurge"},
		"maxUnavailable over 100%": {func(ro *v1alpha1.Rollout) {
			v := intstr.FromString("250%")
			ro.Spec.Strategy.Canary.MaxUnavailable = &v
		}, "spec.strategy.canary.maxUnavailable"},
		"maxSurge that is not a number": {func(ro *v1alpha1.Rollout) {
			v := intstr.FromString("lots")
			ro.Spec.Strategy.Canary.MaxSurge = &v
		}, "spec.strategy.canary.maxSurge"},
		"negative scaleDownDelaySeconds": {func(ro *v1alpha1.Rollout) {
			nginx(ro)
			ro.Spec.Strategy.Canary.ScaleDownDelaySeconds = int32p(-30)
		}, "spec.strategy.canary.scaleDownDelaySeconds"},
	} {
		t.Run(name, func(t *testing.T) {
			ro := canaryRollout(setWeight(20), pauseFor(""))
			tc.edit(ro)
			w := newWorld(t, ro)
			w.addService("demo-stable")
			w.addService("demo-canary")

			p := Compute(w.state())

			c := condition(p.Status, v1alpha1.InvalidSpec)
			if c == nil || !strings.Contains(c.Message, tc.field) {
				t.Fatalf("want InvalidSpec naming %s, got %+v", tc.field, c)
			}
			if p.Create != nil || len(p.ReplicaSetUpdates()) > 0 || len(p.RouterWrites) > 0 {
				t.Fatalf("an out-of-bounds Rollout still writes: create %v, %d updates", p.Create != nil, len(p.ReplicaSetUpdates()))
			}
		})
	}
}

func TestNumbersWithinTheBoundsAreAccepted(t *testing.T) {
	ro := canaryRollout(setWeight(20), pauseFor(""))
	ro.Spec.Replicas = int32p(MaxReplicas)
	surge, unavailable := intstr.FromString("1000%"), intstr.FromString("100%")
	ro.Spec.Strategy.Canary.MaxSurge, ro.Spec.Strategy.Canary.MaxUnavailable = &surge, &unavailable
	if errs := Validate(ro); len(errs) != 0 {
		t.Fatalf("a Rollout at the bounds was refused: %v", errs)
	}
}

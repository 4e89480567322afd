package trafficrouting

import "github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"

// PingPongServices returns the ping-pong Services in their current roles:
// the one status.canary.stablePingPong names is stable, the other canary.
// Until the status names one, pong is stable and ping the canary, as in
// Argo Rollouts. ok is false when the Rollout has no pingPong.
func PingPongServices(ro *v1alpha1.Rollout) (stable, canary string, ok bool) {
	if ro == nil || ro.Spec.Strategy.Canary == nil || ro.Spec.Strategy.Canary.PingPong == nil {
		return "", "", false
	}
	pp := ro.Spec.Strategy.Canary.PingPong
	if ro.Status.Canary.StablePingPong == v1alpha1.PPPing {
		return pp.PingService, pp.PongService, true
	}
	return pp.PongService, pp.PingService, true
}

// Services returns the stable and canary Services a router splits
// between. With pingPong, a router that prefers it (ALB) always splits
// between the ping and pong Services; another (Istio) does so only when
// the Rollout names no stable and canary Service.
func Services(ro *v1alpha1.Rollout, preferPingPong bool) (stable, canary string) {
	c := ro.Spec.Strategy.Canary
	if c == nil {
		return "", ""
	}
	if s, cn, ok := PingPongServices(ro); ok && (preferPingPong || (c.StableService == "" && c.CanaryService == "")) {
		return s, cn
	}
	return c.StableService, c.CanaryService
}

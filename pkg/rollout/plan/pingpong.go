package plan

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Ping-pong validation messages, Argo Rollouts' words.
const (
	msgPingPongBoth       = "Ping service and Pong service must to be set to use Ping-Pong feature"
	msgPingPongDuplicate  = "This rollout uses the same service for the ping and pong services, but two different services are required."
	msgPingPongALBRoot    = "Root service field is required for the configuration with ALB and ping-pong feature enabled"
	msgPingPongRouterOnly = "Ping-pong feature works with the ALB, Istio, and plugin-based traffic routers only"
)

// validatePingPong checks spec.strategy.canary.pingPong: both Services,
// distinct, behind a router that can use them, and with ALB a rootService
// (the Ingress's rules cannot name a Service whose role keeps changing).
func validatePingPong(c *v1alpha1.CanaryStrategy, path *field.Path) field.ErrorList {
	pp := c.PingPong
	if pp == nil {
		return nil
	}
	var errs field.ErrorList
	tr := c.TrafficRouting
	if tr != nil && tr.ALB == nil && tr.Istio == nil && len(tr.Plugins) == 0 {
		errs = append(errs, field.Invalid(path.Child("trafficRouting", "alb"), nil, msgPingPongRouterOnly))
	}
	if pp.PingService == "" {
		errs = append(errs, field.Invalid(path.Child("pingPong", "pingService"), pp.PingService, msgPingPongBoth))
	}
	if pp.PongService == "" {
		errs = append(errs, field.Invalid(path.Child("pingPong", "pongService"), pp.PongService, msgPingPongBoth))
	}
	if pp.PingService == pp.PongService {
		errs = append(errs, field.Invalid(path.Child("pingPong", "pingService"), pp.PingService, msgPingPongDuplicate))
	}
	if tr != nil && tr.ALB != nil && tr.ALB.RootService == "" {
		errs = append(errs, field.Invalid(path.Child("trafficRouting", "alb", "rootService"), "", msgPingPongALBRoot))
	}
	return errs
}

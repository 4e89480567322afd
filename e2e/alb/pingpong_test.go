package alb

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const pingPongRollout = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: web:v1}]
  strategy:
    canary:
      pingPong: {pingService: web-ping, pongService: web-pong}
      trafficRouting:
        alb: {ingress: web, servicePort: 80, rootService: web-root}
      steps:
      - setWeight: 25
      - pause: {}
`

func currentHash(ro *v1alpha1.Rollout) string { return ro.Status.CurrentPodHash }

// TestPingPongPromotionSwapsServices: the canary is whichever of ping and
// pong is not stable; promotion hands it the stable role.
func TestPingPongPromotionSwapsServices(t *testing.T) {
	f, _ := albSetup(t, "web-root", "web-ping", "web-pong")
	r := f.Rollout(pingPongRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	if got := r.Get().Status.Canary.StablePingPong; got != v1alpha1.PPPing {
		t.Fatalf("stablePingPong = %q after the first revision, want ping", got)
	}
	r.SetImage("web:v2")
	r.WaitForPausedAtStep(1)
	v2 := currentHash(r.Get())
	r.WaitForServiceHash("web-pong", v2)
	expectAnnotation(f, rootAction, `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-pong","ServicePort":"80","Weight":25},{"ServiceName":"web-ping","ServicePort":"80","Weight":75}]}}`)
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	if got := r.Get().Status.Canary.StablePingPong; got != v1alpha1.PPPong {
		t.Fatalf("stablePingPong = %q after promotion, want pong", got)
	}
	f.WaitForObject(ingresses, "web", "all traffic on pong", func(u *unstructured.Unstructured) bool {
		w := weights(u, rootAction)
		return w["web-pong"] == 100 && w["web-ping"] == 0
	})
	// The next update's canary is ping.
	r.SetImage("web:v3")
	r.WaitForPausedAtStep(1)
	r.WaitForServiceHash("web-ping", currentHash(r.Get()))
	r.WaitForServiceHash("web-pong", v2)
	expectAnnotation(f, rootAction, `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-ping","ServicePort":"80","Weight":25},{"ServiceName":"web-pong","ServicePort":"80","Weight":75}]}}`)
}

package restart

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var virtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "virtualservices"}

const istioRollout = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 4
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      stableService: demo-stable
      canaryService: demo-canary
      trafficRouting:
        istio:
          virtualService: {name: demo, routes: [primary]}
      steps:
      - setWeight: 10
      - pause: {}
      - setWeight: 50
      - pause: {}
`

const istioVirtualService = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: demo
spec:
  hosts: [demo]
  http:
  - name: primary
    route:
    - destination: {host: demo-stable}
      weight: 100
    - destination: {host: demo-canary}
      weight: 0
`

// TestRestartMovesNoTraffic kills the controller at each step of an Istio
// canary and checks that its successor writes neither the Rollout nor the
// VirtualService: no extra weight change, ever.
func TestRestartMovesNoTraffic(t *testing.T) {
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(virtualServices, istioVirtualService)
	vsClient := f.Env.Cluster.Dynamic().Resource(virtualServices).Namespace(f.Namespace)
	r := f.Rollout(istioRollout)
	vsVersion := func() string {
		u, err := vsClient.Get(t.Context(), "demo", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return u.GetResourceVersion()
	}
	check := func() {
		t.Helper()
		before := vsVersion()
		restartAndCompare(t, f, r)
		if after := vsVersion(); after != before {
			t.Errorf("the VirtualService was written after the restart (%s -> %s)", before, after)
		}
	}
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	check()
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	time.Sleep(time.Second) // let the weight write settle
	check()
	r.Promote()
	r.WaitForPausedAtStep(3)
	time.Sleep(time.Second)
	check()
}

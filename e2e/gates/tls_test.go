package gates

import (
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// A VirtualService of TLS routes only, referenced by a Rollout that also
// lists an HTTP route name: valid for Argo Rollouts, which looks for HTTP
// routes only where spec.http exists.
const tlsCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
spec:
  replicas: 4
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: app
        image: shop:v1
  strategy:
    canary:
      stableService: shop-stable
      canaryService: shop-canary
      trafficRouting:
        istio:
          virtualService:
            name: shop
            routes: [primary]
            tlsRoutes: [{port: 443, sniHosts: [shop.example.com]}]
      steps:
      - setWeight: 25
      - pause: {}
`

const tlsVirtualService = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: shop
spec:
  hosts: [shop.example.com]
  tls:
  - match: [{port: 443, sniHosts: [shop.example.com]}]
    route:
    - destination: {host: shop-stable}
      weight: 100
    - destination: {host: shop-canary}
      weight: 0
`

func TestATLSOnlyVirtualServiceCanaryProgresses(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("shop-stable", "shop").Service("shop-canary", "shop")
	f.Create(virtualServices, tlsVirtualService)
	r := f.Rollout(tlsCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("shop:v2")
	r.WaitForPausedAtStep(1)
	f.WaitForObject(virtualServices, "shop", "25% of TLS traffic on the canary", weightsAre("tls", 75, 25))
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(virtualServices, "shop", "all TLS traffic on the new stable", weightsAre("tls", 100, 0))
	if ro := r.Get(); ro.Status.StableRS != ro.Status.CurrentPodHash {
		t.Fatalf("stableRS %s, want the new %s", ro.Status.StableRS, ro.Status.CurrentPodHash)
	}
}

package gates

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var virtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "virtualservices"}

const canary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
spec:
  replicas: 5
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
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 60
      - pause: {}
`

// The most ordinary edit: a new image and more replicas in one apply.
const imageAndReplicas = `{"spec":{"replicas":10,"template":{"spec":{"containers":[{"name":"app","image":"shop:v2"}]}}}}`

func TestAnImageAndReplicasEditPausesAtTheFirstStep(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("shop-stable", "shop").Service("shop-canary", "shop")
	r := f.Rollout(canary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 5})
	stable := r.Get().Status.StableRS
	completed := r.Events(v1alpha1.EventRolloutCompleted)

	r.Edit(imageAndReplicas)
	r.WaitForPausedAtStep(1).WaitForReplicas(map[string]int32{"rev1": 8, "rev2": 2})
	r.Consistently("the new revision stays at the step's weight", 2*time.Second, func(ro *v1alpha1.Rollout) bool {
		return ro.Status.StableRS == stable && *ro.Status.CurrentStepIndex == 1
	})
	if n := r.Events(v1alpha1.EventRolloutCompleted); n != completed {
		t.Fatalf("%d RolloutCompleted events after the edit, want %d: the new revision was promoted without its steps", n, completed)
	}
}

const istioCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
spec:
  replicas: 5
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
          virtualService: {name: shop, routes: [primary]}
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 60
      - pause: {}
`

const istioVirtualService = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: shop
spec:
  hosts: [shop]
  http:
  - name: primary
    route:
    - destination: {host: shop-stable}
      weight: 100
    - destination: {host: shop-canary}
      weight: 0
`

// weights reads the weight of each destination host of the VirtualService's
// routes of one kind ("http" or "tls").
func weights(u *unstructured.Unstructured, kind string) map[string]int64 {
	out := map[string]int64{}
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", kind)
	for _, rt := range routes {
		dests, _, _ := unstructured.NestedSlice(rt.(map[string]any), "route")
		for _, d := range dests {
			host, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host")
			w, _, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
			out[host] = w
		}
	}
	return out
}

func weightsAre(kind string, stable, canary int64) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool {
		w := weights(u, kind)
		return w["shop-stable"] == stable && w["shop-canary"] == canary
	}
}

func TestAnImageAndReplicasEditBehindIstioPausesAtTheFirstStep(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("shop-stable", "shop").Service("shop-canary", "shop")
	f.Create(virtualServices, istioVirtualService)
	r := f.Rollout(istioCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	stable := r.Get().Status.StableRS

	r.Edit(imageAndReplicas)
	r.WaitForPausedAtStep(1)
	f.WaitForObject(virtualServices, "shop", "20% on the canary", weightsAre("http", 80, 20))
	r.WaitForReplicas(map[string]int32{"rev1": 10, "rev2": 2})
	if ro := r.Get(); ro.Status.StableRS != stable {
		t.Fatalf("stableRS %s, want %s: the new revision was promoted without its steps", ro.Status.StableRS, stable)
	}
}

const blueGreen = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
spec:
  replicas: 3
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
    blueGreen:
      activeService: shop-active
      previewService: shop-preview
      autoPromotionEnabled: false
`

func TestABlueGreenImageAndReplicasEditWaitsAtThePreview(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("shop-active", "shop").Service("shop-preview", "shop")
	r := f.Rollout(blueGreen)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	blue := r.Get().Status.StableRS

	r.Edit(imageAndReplicas)
	r.WaitForPhaseMessage(v1alpha1.RolloutPhasePaused, "BlueGreenPause").WaitForReplicas(map[string]int32{"rev1": 10, "rev2": 10})
	green := r.Get().Status.CurrentPodHash
	r.WaitForServiceHash("shop-preview", green).WaitForServiceHash("shop-active", blue)
	r.Consistently("the active Service stays on the old revision until promoted", 2*time.Second, func(ro *v1alpha1.Rollout) bool {
		return ro.Status.StableRS == blue && ro.Status.BlueGreen.ActiveSelector == blue
	})
}

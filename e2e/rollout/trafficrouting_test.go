package rollout

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var (
	virtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "virtualservices"}
	ingresses       = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	httpRoutes      = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
)

// istioWeights reads the weight of each destination host of the first HTTP route.
func istioWeights(u *unstructured.Unstructured) map[string]int64 {
	out := map[string]int64{}
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	for _, r := range routes {
		m := r.(map[string]any)
		if m["name"] != "primary" {
			continue
		}
		dests, _, _ := unstructured.NestedSlice(m, "route")
		for _, d := range dests {
			host, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host")
			w, _, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
			out[host] = w
		}
	}
	return out
}

func weightsAre(stable, canary int64) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool {
		w := istioWeights(u)
		return w["demo-stable"] == stable && w["demo-canary"] == canary
	}
}

const istioCanary = `
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
      abortScaleDownDelaySeconds: 2
      scaleDownDelaySeconds: 2
      trafficRouting:
        istio:
          virtualService:
            name: demo
            routes: [primary]
      steps:
      - setWeight: 10
      - pause: {}
      - setWeight: 25
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
    retries: {attempts: 3}
    route:
    - destination: {host: demo-stable}
      weight: 100
    - destination: {host: demo-canary}
      weight: 0
`

// TestIstioHostSplitThroughStepsAndAbort is seed 001: an Istio host-level
// split at 10, 25 and 50% with pauses, then an abort back to 100% stable.
func TestIstioHostSplitThroughStepsAndAbort(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(virtualServices, istioVirtualService)
	r := f.Rollout(istioCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	for _, step := range []struct {
		index          int32
		stable, canary int64
	}{{1, 90, 10}, {3, 75, 25}, {5, 50, 50}} {
		r.WaitForPausedAtStep(step.index)
		f.WaitForObject(virtualServices, "demo", "weights", weightsAre(step.stable, step.canary))
		if w := r.Get().Status.Canary.Weights; w == nil || int64(w.Canary.Weight) != step.canary {
			t.Fatalf("status.canary.weights = %+v at step %d", w, step.index)
		}
		if step.index < 5 {
			r.Promote()
		}
	}
	r.Abort()
	f.WaitForObject(virtualServices, "demo", "weights back on stable", weightsAre(100, 0))
	r.WaitForPhase(v1alpha1.RolloutPhaseDegraded)
	// The user's retries setting survives every write.
	vs, _ := f.Env.Cluster.Dynamic().Resource(virtualServices).Namespace(f.Namespace).Get(t.Context(), "demo", metav1.GetOptions{})
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	if _, ok := routes[0].(map[string]any)["retries"]; !ok {
		t.Fatalf("the route lost its retries: %v", routes[0])
	}
	r.WaitForReplicas(map[string]int32{"rev1": 4})
}

func TestIstioPromotionEndsWithAllTrafficOnTheNewStable(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(virtualServices, istioVirtualService)
	r := f.Rollout(istioCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(virtualServices, "demo", "weights", weightsAre(100, 0))
	r.WaitForServiceHash("demo-stable", r.Get().Status.StableRS)
	r.WaitForReplicas(map[string]int32{"rev2": 4})
}

func TestMissingVirtualServiceIsReported(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(istioCanary)
	r.WaitFor("an InvalidSpec naming the VirtualService", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhaseDegraded && strings.Contains(ro.Status.Message, `VirtualService "`) && strings.Contains(ro.Status.Message, "not found")
	})
	// Once it exists, the Rollout goes on.
	f.Create(virtualServices, istioVirtualService)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
}

const nginxCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 2
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
        nginx:
          stableIngress: demo
      steps:
      - setWeight: 20
      - pause: {}
`

const stableIngress = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: demo
spec:
  ingressClassName: nginx
  rules:
  - host: demo.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: demo-stable, port: {number: 80}}
`

func TestNginxCanaryIngressCarriesTheWeight(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(ingresses, stableIngress)
	r := f.Rollout(nginxCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	f.WaitForObject(ingresses, "demo-demo-canary", "canary-weight 20", func(u *unstructured.Unstructured) bool {
		a := u.GetAnnotations()
		return a["nginx.ingress.kubernetes.io/canary"] == "true" && a["nginx.ingress.kubernetes.io/canary-weight"] == "20"
	})
	r.Abort()
	f.WaitForObject(ingresses, "demo-demo-canary", "canary-weight 0", func(u *unstructured.Unstructured) bool {
		return u.GetAnnotations()["nginx.ingress.kubernetes.io/canary-weight"] == "0"
	})
}

const gatewayCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 2
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
        plugins:
          argoproj-labs/gatewayAPI:
            httpRoute: demo
      steps:
      - setWeight: 30
      - pause: {}
`

const httpRoute = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: demo
spec:
  parentRefs: [{name: gateway}]
  rules:
  - backendRefs:
    - {name: demo-stable, port: 80, weight: 100}
    - {name: demo-canary, port: 80, weight: 0}
`

func TestGatewayAPIHTTPRouteWeights(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(httpRoutes, httpRoute)
	r := f.Rollout(gatewayCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	f.WaitForObject(httpRoutes, "demo", "backend weights 70/30", func(u *unstructured.Unstructured) bool {
		rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
		if len(rules) == 0 {
			return false
		}
		refs, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backendRefs")
		w := map[string]int64{}
		for _, ref := range refs {
			name, _, _ := unstructured.NestedString(ref.(map[string]any), "name")
			weight, _, _ := unstructured.NestedInt64(ref.(map[string]any), "weight")
			w[name] = weight
		}
		return w["demo-stable"] == 70 && w["demo-canary"] == 30
	})
}

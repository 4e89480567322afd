package rollout

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var destinationRules = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "destinationrules"}

const subsetCanary = `
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
      trafficRouting:
        istio:
          virtualService: {name: demo, routes: [primary]}
          destinationRule: {name: demo, canarySubsetName: canary, stableSubsetName: stable}
      steps:
      - setWeight: 20
      - pause: {}
`

const subsetVirtualService = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: demo
spec:
  hosts: [demo]
  http:
  - name: primary
    route:
    - destination: {host: demo, subset: stable}
      weight: 100
    - destination: {host: demo, subset: canary}
      weight: 0
`

const subsetDestinationRule = `
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: demo
spec:
  host: demo
  subsets:
  - name: stable
    labels: {app: demo}
  - name: canary
    labels: {app: demo}
`

// subsetHashes reads which revision each DestinationRule subset selects.
func subsetHashes(u *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	subsets, _, _ := unstructured.NestedSlice(u.Object, "spec", "subsets")
	for _, s := range subsets {
		m := s.(map[string]any)
		h, _, _ := unstructured.NestedString(m, "labels", v1alpha1.LabelPodTemplateHash)
		out[m["name"].(string)] = h
	}
	return out
}

func subsetWeights(u *unstructured.Unstructured) map[string]int64 {
	out := map[string]int64{}
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	for _, r := range routes {
		if r.(map[string]any)["name"] != "primary" {
			continue
		}
		dests, _, _ := unstructured.NestedSlice(r.(map[string]any), "route")
		for _, d := range dests {
			subset, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "subset")
			w, _, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
			out[subset] = w
		}
	}
	return out
}

// TestIstioSubsetSplitPointsTheDestinationRuleAtTheRevisions is seed 003's
// subset-level split: the DestinationRule's subsets select the stable and
// canary revisions by hash, and the VirtualService moves weight between them.
func TestIstioSubsetSplitPointsTheDestinationRuleAtTheRevisions(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	f.Create(virtualServices, subsetVirtualService)
	f.Create(destinationRules, subsetDestinationRule)
	r := f.Rollout(subsetCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	stable := r.Get().Status.StableRS
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	canary := r.Get().Status.CurrentPodHash
	f.WaitForObject(destinationRules, "demo", "subsets on the revisions", func(u *unstructured.Unstructured) bool {
		h := subsetHashes(u)
		return h["stable"] == stable && h["canary"] == canary && u.GetAnnotations()[v1alpha1.AnnotationManagedByRollouts] == "demo"
	})
	f.WaitForObject(virtualServices, "demo", "80/20", func(u *unstructured.Unstructured) bool {
		w := subsetWeights(u)
		return w["stable"] == 80 && w["canary"] == 20
	})
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(destinationRules, "demo", "both subsets on the new stable", func(u *unstructured.Unstructured) bool {
		h := subsetHashes(u)
		return h["stable"] == canary
	})
	f.WaitForObject(virtualServices, "demo", "100/0", func(u *unstructured.Unstructured) bool {
		w := subsetWeights(u)
		return w["stable"] == 100 && w["canary"] == 0
	})
}

const headerRouteCanary = `
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
        managedRoutes:
        - name: header
        - name: mirror
        istio:
          virtualService: {name: demo, routes: [primary]}
      steps:
      - setCanaryScale: {replicas: 1}
      - setHeaderRoute:
          name: header
          match:
          - headerName: X-Canary
            headerValue: {exact: "true"}
      - setMirrorRoute:
          name: mirror
          percentage: 30
          match:
          - method: {exact: GET}
      - pause: {}
`

func httpRouteNames(u *unstructured.Unstructured) []string {
	var names []string
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	for _, r := range routes {
		n, _ := r.(map[string]any)["name"].(string)
		names = append(names, n)
	}
	return names
}

// TestHeaderAndMirrorRoutesWithCanaryScale is seed 003's header-routed
// canary: one canary pod, requests with X-Canary: true sent to it, GET
// requests mirrored to it, an indefinite pause, then a promote that removes
// the managed routes.
func TestHeaderAndMirrorRoutesWithCanaryScale(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(virtualServices, istioVirtualService)
	r := f.Rollout(headerRouteCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(3).WaitForReplicas(map[string]int32{"rev1": 4, "rev2": 1})
	f.WaitForObject(virtualServices, "demo", "header and mirror routes first", func(u *unstructured.Unstructured) bool {
		return strings.Join(httpRouteNames(u), ",") == "header,mirror,primary"
	})
	vs, _ := f.Env.Cluster.Dynamic().Resource(virtualServices).Namespace(f.Namespace).Get(t.Context(), "demo", metav1GetOptions)
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	header := routes[0].(map[string]any)
	if v, _, _ := unstructured.NestedString(header, "match", "0", "headers", "X-Canary", "exact"); v != "true" && !strings.Contains(strings.ToLower(toJSON(header)), `"x-canary":{"exact":"true"}`) {
		t.Fatalf("header route = %s", toJSON(header))
	}
	if !strings.Contains(toJSON(routes[1].(map[string]any)), `"mirror"`) || !strings.Contains(toJSON(routes[1].(map[string]any)), `30`) {
		t.Fatalf("mirror route = %s", toJSON(routes[1].(map[string]any)))
	}
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(virtualServices, "demo", "managed routes removed", func(u *unstructured.Unstructured) bool {
		return strings.Join(httpRouteNames(u), ",") == "primary"
	})
}

package routers

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const meshVirtualService = `
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata: {name: demo}
spec:
  provider: {virtualRouter: {virtualRouterRef: {name: demo-router}}}
`

const meshVirtualRouter = `
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualRouter
metadata: {name: demo-router}
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
  routes:
  - name: primary
    httpRoute:
      match: {prefix: /}
      action:
        weightedTargets:
        - {virtualNodeRef: {name: demo-canary}, weight: 0}
        - {virtualNodeRef: {name: demo-stable}, weight: 100}
`

func meshVirtualNode(name string) string {
	return `
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: ` + name + `}
spec:
  podSelector: {matchLabels: {app: demo}}
  listeners: [{portMapping: {port: 8080, protocol: http}}]
  serviceDiscovery: {dns: {hostname: ` + name + `.svc.cluster.local}}
`
}

var appMeshRollout = rolloutOf(`        appMesh:
          virtualService: {name: demo}
          virtualNodeGroup:
            canaryVirtualNodeRef: {name: demo-canary}
            stableVirtualNodeRef: {name: demo-stable}`, twoSteps)

// meshWeights reads the weighted targets of the first route by node name.
func meshWeights(u *unstructured.Unstructured) map[string]int64 {
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", "routes")
	if len(routes) == 0 {
		return nil
	}
	targets, _, _ := unstructured.NestedSlice(routes[0].(map[string]any), "httpRoute", "action", "weightedTargets")
	out := map[string]int64{}
	for _, raw := range targets {
		t := raw.(map[string]any)
		name, _, _ := unstructured.NestedString(t, "virtualNodeRef", "name")
		w, _ := t["weight"].(int64)
		out[name] = w
	}
	return out
}

func selects(hash string) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool {
		h, _, _ := unstructured.NestedString(u.Object, "spec", "podSelector", "matchLabels", "rollouts-pod-template-hash")
		return h == hash
	}
}

func startAppMesh(f *framework.T) *framework.R {
	f.Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(virtualServices, meshVirtualService)
	f.Create(virtualRouters, meshVirtualRouter)
	f.Create(virtualNodes, meshVirtualNode("demo-canary"))
	f.Create(virtualNodes, meshVirtualNode("demo-stable"))
	r := f.Rollout(appMeshRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	stable := r.Get().Status.StableRS
	f.WaitForObject(virtualNodes, "demo-stable", "on the stable hash", selects(stable))
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	canary := r.Get().Status.CurrentPodHash
	f.WaitForObject(virtualNodes, "demo-canary", "on the canary hash", selects(canary))
	f.WaitForObject(virtualRouters, "demo-router", "at 20%", weightsAre(meshWeights, 80, 20))
	return r
}

// An App Mesh canary points the VirtualNodes at the two revisions and
// moves the VirtualRouter's weighted targets; an abort gives the stable
// node everything.
func TestAppMeshCanaryAndAbort(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startAppMesh(f)
	r.Promote()
	r.WaitForPausedAtStep(3)
	f.WaitForObject(virtualRouters, "demo-router", "at 60%", weightsAre(meshWeights, 40, 60))
	r.Abort()
	f.WaitForObject(virtualRouters, "demo-router", "back on stable", weightsAre(meshWeights, 100, 0))
	r.WaitForPhase(v1alpha1.RolloutPhaseDegraded)
	r.WaitForReplicas(map[string]int32{"rev1": 4})
}

func TestAppMeshPromotion(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := startAppMesh(f)
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(virtualRouters, "demo-router", "all on the new stable", weightsAre(meshWeights, 100, 0))
	f.WaitForObject(virtualNodes, "demo-stable", "on the new stable", selects(r.Get().Status.StableRS))
	f.WaitForObject(virtualNodes, "demo-canary", "on no revision", selects("canary-hash"))
}

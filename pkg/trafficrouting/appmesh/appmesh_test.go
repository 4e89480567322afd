package appmesh

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const rolloutDoc = `
metadata: {name: color, namespace: mesh, uid: 0b7d-color}
spec:
  strategy:
    canary:
      trafficRouting:
        appMesh:
          virtualService: {name: color-svc, routes: [primary]}
          virtualNodeGroup:
            canaryVirtualNodeRef: {name: color-canary}
            stableVirtualNodeRef: {name: color-stable}
`

var meshObjects = []string{`
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata: {name: color-svc, namespace: mesh}
spec:
  awsName: color-svc.mesh.svc.cluster.local
  provider: {virtualRouter: {virtualRouterRef: {name: color-router}}}
`, `
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualRouter
metadata: {name: color-router, namespace: mesh, resourceVersion: "8"}
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
  routes:
  - name: primary
    httpRoute:
      match: {prefix: /}
      action:
        weightedTargets:
        - {virtualNodeRef: {name: color-canary}, weight: 0}
        - {virtualNodeRef: {name: color-stable}, weight: 100}
  - name: untouched
    tcpRoute:
      action:
        weightedTargets:
        - {virtualNodeRef: {name: color-canary}, weight: 0}
        - {virtualNodeRef: {name: color-stable}, weight: 100}
`, `
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: color-canary, namespace: mesh}
spec:
  podSelector: {matchLabels: {app: color}}
  listeners: [{portMapping: {port: 80, protocol: http}}]
`, `
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: color-stable, namespace: mesh}
spec:
  podSelector: {matchLabels: {app: color}}
  listeners: [{portMapping: {port: 80, protocol: http}}]
`}

func observe(t *testing.T, r *Router, docs ...string) map[trafficrouting.Ref]*unstructured.Unstructured {
	out := map[trafficrouting.Ref]*unstructured.Unstructured{}
	for _, doc := range docs {
		obj := trtest.Obj(t, doc)
		gvr := r.gvr(map[string]string{"VirtualService": "virtualservices", "VirtualRouter": "virtualrouters", "VirtualNode": "virtualnodes"}[obj.GetKind()])
		out[trafficrouting.Ref{Resource: gvr, Namespace: obj.GetNamespace(), Name: obj.GetName()}] = obj
	}
	return out
}

func desired(w int32) trafficrouting.Desired {
	return trafficrouting.Desired{CanaryWeight: w, MaxWeight: 100, StableHash: "5f6c", CanaryHash: "7d9a"}
}

func TestFollowNamesTheVirtualRouter(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("").(*Router)
	got := r.Follow(ro, observe(t, r, meshObjects[0]))
	if len(got) != 1 || got[0] != (trafficrouting.Ref{Resource: r.VirtualRouters(), Namespace: "mesh", Name: "color-router"}) {
		t.Fatalf("Follow = %+v", got)
	}
	if got := r.Follow(ro, nil); len(got) != 0 {
		t.Fatalf("Follow without VirtualService = %+v", got)
	}
}

func TestNodesThenWeightsThenNothing(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("").(*Router)
	observed := observe(t, r, meshObjects...)
	if err := r.Validate(ro, observed); err != nil {
		t.Fatal(err)
	}
	w, err := r.Plan(ro, observed, desired(25))
	if err != nil || len(w.Updates) != 3 || len(w.Creates)+len(w.Deletes) != 0 {
		t.Fatalf("want three updates, got %+v, %v", w, err)
	}
	if w.Updates[0].Ref.Name != "color-canary" || w.Updates[1].Ref.Name != "color-stable" || w.Updates[2].Ref.Name != "color-router" {
		t.Fatalf("order: %s, %s, %s", w.Updates[0].Ref.Name, w.Updates[1].Ref.Name, w.Updates[2].Ref.Name)
	}
	trtest.Equal(t, w.Updates[0].Unstructured, `
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata:
  name: color-canary
  namespace: mesh
  annotations: {argo-rollouts.argoproj.io/managed-by-rollouts: color}
spec:
  podSelector: {matchLabels: {app: color, rollouts-pod-template-hash: 7d9a}}
  listeners: [{portMapping: {port: 80, protocol: http}}]
`)
	trtest.Equal(t, w.Updates[2].Unstructured, `
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualRouter
metadata: {name: color-router, namespace: mesh, resourceVersion: "8"}
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
  routes:
  - name: primary
    httpRoute:
      match: {prefix: /}
      action:
        weightedTargets:
        - {virtualNodeRef: {name: color-canary}, weight: 25}
        - {virtualNodeRef: {name: color-stable}, weight: 75}
  - name: untouched
    tcpRoute:
      action:
        weightedTargets:
        - {virtualNodeRef: {name: color-canary}, weight: 0}
        - {virtualNodeRef: {name: color-stable}, weight: 100}
`)
	again, err := r.Plan(ro, trtest.Apply(observed, w), desired(25))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)
}

// An abort is a single VirtualRouter write that gives the stable node
// everything; the nodes keep their revisions.
func TestAbortPutsAllOnStable(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("").(*Router)
	observed := observe(t, r, meshObjects...)
	w, _ := r.Plan(ro, observed, desired(60))
	observed = trtest.Apply(observed, w)
	w, err := r.Plan(ro, observed, desired(0))
	if err != nil || len(w.Updates) != 1 || w.Updates[0].Ref.Name != "color-router" {
		t.Fatalf("want the router updated alone, got %+v, %v", w, err)
	}
	routes, _, _ := unstructured.NestedSlice(w.Updates[0].Object, "spec", "routes")
	targets, _, _ := unstructured.NestedSlice(routes[0].(map[string]any), "httpRoute", "action", "weightedTargets")
	trtest.EqualValue(t, targets, `
- {virtualNodeRef: {name: color-canary}, weight: 0}
- {virtualNodeRef: {name: color-stable}, weight: 100}
`)
}

// A new revision whose pods cannot serve yet: the canary's weight goes to
// 0 before its node selects the new pods.
func TestWeightLeavesBeforeCanaryNodeMoves(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("").(*Router)
	observed := observe(t, r, meshObjects...)
	w, _ := r.Plan(ro, observed, desired(60))
	observed = trtest.Apply(observed, w)
	d := desired(0)
	d.CanaryHash = "8e01"
	w, err := r.Plan(ro, observed, d)
	if err != nil || len(w.Updates) != 2 || w.Updates[0].Ref.Name != "color-router" || w.Updates[1].Ref.Name != "color-canary" {
		t.Fatalf("want router then canary node, got %+v, %v", w, err)
	}
}

// With no separate canary revision both nodes get hashes that select no pod
// but their own: the canary a placeholder.
func TestPlaceholderHashes(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("").(*Router)
	w, err := r.Plan(ro, observe(t, r, meshObjects...), trafficrouting.Desired{StableHash: "5f6c", CanaryHash: "5f6c"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Updates {
		h, _, _ := unstructured.NestedString(c.Object, "spec", "podSelector", "matchLabels", "rollouts-pod-template-hash")
		want := map[string]string{"color-canary": "canary-hash", "color-stable": "5f6c", "color-router": ""}[c.Ref.Name]
		if h != want {
			t.Fatalf("%s selects %q, want %q", c.Ref.Name, h, want)
		}
	}
}

func TestErrors(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("").(*Router)
	trtest.ErrContains(t, r.Validate(ro, nil), `Virtual-service "mesh/color-svc" is missing`)
	trtest.ErrContains(t, r.Validate(ro, observe(t, r, meshObjects[0])), `Virtual-router "mesh/color-router" is missing`)
	trtest.ErrContains(t, r.Validate(ro, observe(t, r, meshObjects[:3]...)), `Virtual-node "mesh/color-stable" is missing`)
	noRouter := observe(t, r, `
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata: {name: color-svc, namespace: mesh}
spec: {provider: {virtualNode: {virtualNodeRef: {name: color-stable}}}}
`)
	trtest.ErrContains(t, r.Validate(ro, noRouter), "not associated with a virtual-router")
	bad := observe(t, r, append([]string{`
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualRouter
metadata: {name: color-router, namespace: mesh}
spec:
  routes: [{name: primary, httpRoute: {action: {}}}]
`}, meshObjects[0], meshObjects[2], meshObjects[3])...)
	trtest.ErrContains(t, r.Validate(ro, bad), "spec.routes[0].httpRoute.action.weightedTargets: not well-formed")
	w, err := r.Plan(ro, bad, desired(10))
	trtest.ErrContains(t, err, "not well-formed")
	trtest.NoWrites(t, w)

	ro.Spec.Strategy.Canary.TrafficRouting.AppMesh.VirtualNodeGroup = nil
	trtest.ErrContains(t, r.Validate(ro, nil), "virtualNodeGroup")
	if got := New("v1beta3").(*Router).VirtualNodes().Version; got != "v1beta3" {
		t.Fatalf("crd version %q", got)
	}
}

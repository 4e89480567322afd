package ambassador

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const rolloutDoc = `
metadata: {name: echo, namespace: edge, uid: 9c1e-echo}
spec:
  strategy:
    canary:
      stableService: echo-stable
      canaryService: echo-canary
      trafficRouting:
        ambassador: {mappings: [echo, echo-grpc]}
`

const baseMappings = `
apiVersion: getambassador.io/v2
kind: Mapping
metadata:
  name: echo
  namespace: edge
  resourceVersion: "12"
  labels: {app: echo}
  annotations: {owner: team-a}
spec: {prefix: /echo/, rewrite: /, service: echo-stable.edge:8080, timeout_ms: 3000}
---
apiVersion: getambassador.io/v2
kind: Mapping
metadata: {name: echo-grpc, namespace: edge}
spec: {prefix: /echo.Echo/, grpc: true, service: echo-stable:9090}
`

func desired(w int32) trafficrouting.Desired {
	return trafficrouting.Desired{StableService: "echo-stable", CanaryService: "echo-canary", CanaryWeight: w, MaxWeight: 100}
}

func observe(t *testing.T, r trafficrouting.Router, docs ...string) map[trafficrouting.Ref]*unstructured.Unstructured {
	out := map[trafficrouting.Ref]*unstructured.Unstructured{}
	for _, doc := range docs {
		obj := trtest.Obj(t, doc)
		out[trafficrouting.Ref{Resource: r.(*Router).Mappings(), Namespace: obj.GetNamespace(), Name: obj.GetName()}] = obj
	}
	return out
}

func bases(t *testing.T, r trafficrouting.Router) map[trafficrouting.Ref]*unstructured.Unstructured {
	return observe(t, r, strings.Split(baseMappings, "---")...)
}

func TestCreatesCanaryMappingsThenNothing(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("")
	observed := bases(t, r)
	w, err := r.Plan(ro, observed, desired(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Creates) != 2 || len(w.Updates)+len(w.Deletes) != 0 {
		t.Fatalf("want two creates, got %+v", w)
	}
	trtest.Equal(t, w.Creates[0].Unstructured, `
apiVersion: getambassador.io/v2
kind: Mapping
metadata: {name: echo-canary, namespace: edge}
spec: {prefix: /echo/, rewrite: /, service: echo-canary.edge:8080, timeout_ms: 3000, weight: 10}
`)
	trtest.Equal(t, w.Creates[1].Unstructured, `
apiVersion: getambassador.io/v2
kind: Mapping
metadata: {name: echo-grpc-canary, namespace: edge}
spec: {prefix: /echo.Echo/, grpc: true, service: echo-canary:9090, weight: 10}
`)
	observed = trtest.Apply(observed, w)
	again, err := r.Plan(ro, observed, desired(10))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)

	w, err = r.Plan(ro, observed, desired(60))
	if err != nil || len(w.Updates) != 2 || len(w.Creates)+len(w.Deletes) != 0 {
		t.Fatalf("want two updates, got %+v, %v", w, err)
	}
	if !w.Updates[0].Replace {
		t.Fatal("a Mapping may be updated, not patched, under Argo Rollouts' ClusterRole")
	}
	if got := weightOf(w.Updates[0].Unstructured); got != 60 {
		t.Fatalf("canary weight = %d", got)
	}
	// The base Mappings are never written.
	for _, c := range w.Updates {
		if c.Ref.Name == "echo" || c.Ref.Name == "echo-grpc" {
			t.Fatalf("base Mapping %s written", c.Ref.Name)
		}
	}
}

// An abort sets every canary Mapping to weight 0 in one pass, and only the
// next pass, once Ambassador routes nothing to them, deletes them.
func TestAbortZeroesThenDeletes(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("")
	observed := bases(t, r)
	w, _ := r.Plan(ro, observed, desired(40))
	observed = trtest.Apply(observed, w)

	w, err := r.Plan(ro, observed, desired(0))
	if err != nil || len(w.Updates) != 2 || len(w.Creates)+len(w.Deletes) != 0 {
		t.Fatalf("want two updates, got %+v, %v", w, err)
	}
	for _, c := range w.Updates {
		if weightOf(c.Unstructured) != 0 {
			t.Fatalf("%s weight = %d", c.Ref.Name, weightOf(c.Unstructured))
		}
	}
	observed = trtest.Apply(observed, w)
	w, err = r.Plan(ro, observed, desired(0))
	if err != nil || len(w.Deletes) != 2 || len(w.Updates)+len(w.Creates) != 0 {
		t.Fatalf("want two deletes, got %+v, %v", w, err)
	}
	if w.Deletes[0].Name != "echo-canary" || w.Deletes[1].Name != "echo-grpc-canary" {
		t.Fatalf("deletes %+v", w.Deletes)
	}
	observed = trtest.Apply(observed, w)
	w, err = r.Plan(ro, observed, desired(0))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, w)
}

func TestAPIVersions(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "getambassador.io/v2, Resource=mappings",
		"getambassador.io/v3alpha1":   "getambassador.io/v3alpha1, Resource=mappings",
		"x.getambassador.io/v3alpha1": "x.getambassador.io/v3alpha1, Resource=ambassadormappings",
		"v3alpha1":                    "getambassador.io/v3alpha1, Resource=mappings",
	} {
		if got := New(in).(*Router).Mappings().String(); got != want {
			t.Errorf("New(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	ro := trtest.Rollout(t, rolloutDoc)
	r := New("")
	w, err := r.Plan(ro, nil, desired(10))
	trtest.ErrContains(t, err, `Ambassador mapping "echo" not found`, `Ambassador mapping "echo-grpc" not found`)
	trtest.NoWrites(t, w)
	// Nothing to create at weight 0: a missing base Mapping is no error.
	if w, err := r.Plan(ro, nil, desired(0)); err != nil || !w.Empty() {
		t.Fatalf("weight 0: %+v, %v", w, err)
	}
	weighted := observe(t, r, `
apiVersion: getambassador.io/v2
kind: Mapping
metadata: {name: echo, namespace: edge}
spec: {prefix: /echo/, service: echo-stable, weight: 20}
`, `
apiVersion: getambassador.io/v2
kind: Mapping
metadata: {name: echo-grpc, namespace: edge}
spec: {prefix: /g/, service: echo-stable}
`)
	w, err = r.Plan(ro, weighted, desired(10))
	trtest.ErrContains(t, err, `Ambassador mapping "echo" can not define weight`)
	trtest.NoWrites(t, w)

	ro.Spec.Strategy.Canary.TrafficRouting.Ambassador.Mappings = nil
	trtest.ErrContains(t, r.Validate(ro, nil), "names no Mapping")
}

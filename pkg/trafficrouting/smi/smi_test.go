package smi

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const smiRollout = `
metadata: {name: api, namespace: mesh, uid: 77aa-api}
spec:
  strategy:
    canary:
      stableService: api-stable
      canaryService: api-canary
      trafficRouting:
        smi: {rootService: api}
`

func desired(w int32) trafficrouting.Desired {
	return trafficrouting.Desired{StableService: "api-stable", CanaryService: "api-canary", CanaryWeight: w, MaxWeight: 100}
}

func refOf(version string) func(*unstructured.Unstructured) trafficrouting.Ref {
	return func(u *unstructured.Unstructured) trafficrouting.Ref {
		return trafficrouting.Ref{Resource: New(version).(*Router).TrafficSplits(), Namespace: u.GetNamespace(), Name: u.GetName()}
	}
}

func TestCreatesTrafficSplitV1alpha1(t *testing.T) {
	ro := trtest.Rollout(t, smiRollout)
	r := New("")
	w, err := r.Plan(ro, nil, desired(5))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Creates) != 1 || len(w.Updates)+len(w.Deletes) != 0 {
		t.Fatalf("want one create, got %+v", w)
	}
	trtest.Equal(t, w.Creates[0].Unstructured, `
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata:
  name: api
  namespace: mesh
  ownerReferences:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: api, uid: 77aa-api, controller: true, blockOwnerDeletion: true}
spec:
  service: api
  backends:
  - {service: api-canary, weight: "5"}
  - {service: api-stable, weight: "95"}
`)
	observed := trtest.Apply(nil, w)
	again, err := r.Plan(ro, observed, desired(5))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)
	tw, err := weightsOf(r, ro, observed, desired(5))
	if err != nil || tw.Canary.Weight != 5 || tw.Stable.Weight != 95 {
		t.Fatalf("Weights = %+v, %v", tw, err)
	}
}

func TestUpdatesV1alpha3WithExperiment(t *testing.T) {
	ro := trtest.Rollout(t, smiRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.SMI = &v1alpha1.SMITrafficRouting{TrafficSplitName: "api-split"}
	ts := trtest.Obj(t, `
apiVersion: split.smi-spec.io/v1alpha3
kind: TrafficSplit
metadata:
  name: api-split
  namespace: mesh
  resourceVersion: "9"
  labels: {team: payments}
  ownerReferences:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: api, uid: 77aa-api, controller: true}
spec:
  service: api-stable
  backends:
  - {service: api-canary, weight: 10}
  - {service: api-stable, weight: 90}
`)
	r := New("v1alpha3")
	observed := map[trafficrouting.Ref]*unstructured.Unstructured{refOf("v1alpha3")(ts): ts}
	d := desired(20)
	d.Additional = []v1alpha1.WeightDestination{{ServiceName: "api-exp", Weight: 10, PodTemplateHash: "x1"}}
	w, err := r.Plan(ro, observed, d)
	if err != nil {
		t.Fatal(err)
	}
	trtest.Equal(t, w.Updates[0].Unstructured, `
apiVersion: split.smi-spec.io/v1alpha3
kind: TrafficSplit
metadata:
  name: api-split
  namespace: mesh
  resourceVersion: "9"
  labels: {team: payments}
  ownerReferences:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: api, uid: 77aa-api, controller: true}
spec:
  service: api-stable
  backends:
  - {service: api-canary, weight: 20}
  - {service: api-exp, weight: 10}
  - {service: api-stable, weight: 70}
`)
	tw, err := weightsOf(r, ro, trtest.Apply(observed, w), d)
	if err != nil || tw.Canary.Weight != 20 || tw.Stable.Weight != 70 || len(tw.Additional) != 1 || tw.Additional[0].Weight != 10 {
		t.Fatalf("Weights = %+v, %v", tw, err)
	}
}

func TestNumericWeightsInV1alpha1AreEqual(t *testing.T) {
	ro := trtest.Rollout(t, smiRollout)
	ts := trtest.Obj(t, `
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata:
  name: api
  namespace: mesh
  ownerReferences: [{apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: api, uid: 77aa-api, controller: true}]
spec:
  service: api
  backends:
  - {service: api-canary, weight: 25}
  - {service: api-stable, weight: 75}
`)
	w, err := New("").Plan(ro, map[trafficrouting.Ref]*unstructured.Unstructured{refOf("")(ts): ts}, desired(25))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, w)
}

func TestErrors(t *testing.T) {
	ro := trtest.Rollout(t, smiRollout)
	ts := trtest.Obj(t, `
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: api, namespace: mesh}
spec: {service: api, backends: []}
`)
	w, err := New("v1alpha2").Plan(ro, map[trafficrouting.Ref]*unstructured.Unstructured{refOf("v1alpha2")(ts): ts}, desired(25))
	trtest.ErrContains(t, err, `TrafficSplit "mesh/api"`, "not owned")
	trtest.NoWrites(t, w)

	w, err = New("v1beta9").Plan(ro, nil, desired(25))
	trtest.ErrContains(t, err, "v1beta9")
	trtest.NoWrites(t, w)

	// Validate finds the same problems without planning; a TrafficSplit
	// that does not exist yet is created by Plan, so it is no problem.
	trtest.ErrContains(t, New("v1alpha2").Validate(ro, map[trafficrouting.Ref]*unstructured.Unstructured{refOf("v1alpha2")(ts): ts}), `TrafficSplit "mesh/api"`, "not owned")
	trtest.ErrContains(t, New("v1beta9").Validate(ro, nil), "v1beta9")
	if err := New("").Validate(ro, nil); err != nil {
		t.Fatalf("no TrafficSplit yet: %v", err)
	}

	_, err = weightsOf(New(""), ro, nil, desired(25))
	trtest.ErrContains(t, err, `TrafficSplit "mesh/api" not found`)
}

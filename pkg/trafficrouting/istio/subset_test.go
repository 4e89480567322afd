package istio

import (
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

const subsetRollout = `
metadata: {name: reviews, namespace: bookinfo}
spec:
  strategy:
    canary:
      trafficRouting:
        istio:
          virtualService: {name: reviews, routes: [primary]}
          destinationRule: {name: reviews, canarySubsetName: canary, stableSubsetName: stable}
`

const subsetVS = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - name: primary
    route:
    - destination: {host: reviews, subset: stable}
      weight: 100
    - destination: {host: reviews, subset: canary}
      weight: 0
`

const subsetDR = `
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews.bookinfo.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets:
  - name: stable
    labels: {app: reviews}
    trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
  - name: canary
    labels: {app: reviews}
  - name: leftover
    labels: {version: v0}
`

func subsetDesired(w int32) trafficrouting.Desired {
	return trafficrouting.Desired{StableHash: "aaa111", CanaryHash: "bbb222", CanaryWeight: w, MaxWeight: 100}
}

func TestSubsetSplitUpdatesRuleThenRoutes(t *testing.T) {
	ro := trtest.Rollout(t, subsetRollout)
	r := New("")
	observed := observe(trtest.Obj(t, subsetVS), trtest.Obj(t, subsetDR))
	w, err := r.Plan(ro, observed, subsetDesired(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Updates) != 2 || w.Updates[0].GetKind() != "DestinationRule" || w.Updates[1].GetKind() != "VirtualService" {
		t.Fatalf("want the DestinationRule then the VirtualService, got %d updates", len(w.Updates))
	}
	trtest.Equal(t, w.Updates[0].Unstructured, `
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
  annotations: {argo-rollouts.argoproj.io/managed-by-rollouts: reviews}
spec:
  host: reviews.bookinfo.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets:
  - name: stable
    labels: {app: reviews, rollouts-pod-template-hash: aaa111}
    trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
  - name: canary
    labels: {app: reviews, rollouts-pod-template-hash: bbb222}
`)
	trtest.Equal(t, w.Updates[1].Unstructured, `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - name: primary
    route:
    - destination: {host: reviews, subset: stable}
      weight: 90
    - destination: {host: reviews, subset: canary}
      weight: 10
`)
	observed = trtest.Apply(observed, w)
	again, err := r.Plan(ro, observed, subsetDesired(10))
	if err != nil {
		t.Fatal(err)
	}
	trtest.NoWrites(t, again)
	tw, err := weightsOf(r, ro, observed, subsetDesired(10))
	if err != nil || tw.Canary.Weight != 10 || tw.Stable.Weight != 90 || tw.Canary.PodTemplateHash != "bbb222" || tw.Stable.PodTemplateHash != "aaa111" {
		t.Fatalf("Weights = %+v, %v", tw, err)
	}
}

func TestSubsetWeightWaitsForHash(t *testing.T) {
	ro := trtest.Rollout(t, subsetRollout)
	d := subsetDesired(10)
	d.CanaryHash = ""
	w, err := New("").Plan(ro, observe(trtest.Obj(t, subsetVS), trtest.Obj(t, subsetDR)), d)
	trtest.ErrContains(t, err, `DestinationRule "bookinfo/reviews"`, `subset "canary"`)
	trtest.NoWrites(t, w)
}

func TestNewCanaryTakesTrafficAwayBeforeMovingSubset(t *testing.T) {
	// The canary subset carries 30% for hash bbb222; a newer revision ccc333
	// has no available pods yet, so the weight drops to 0 first.
	ro := trtest.Rollout(t, subsetRollout)
	r := New("")
	observed := observe(trtest.Obj(t, subsetVS), trtest.Obj(t, subsetDR))
	w, _ := r.Plan(ro, observed, subsetDesired(30))
	observed = trtest.Apply(observed, w)
	d := subsetDesired(0)
	d.CanaryHash = "ccc333"
	w, err := r.Plan(ro, observed, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Updates) != 2 || w.Updates[0].GetKind() != "VirtualService" || w.Updates[1].GetKind() != "DestinationRule" {
		t.Fatalf("want the VirtualService first, got %d updates", len(w.Updates))
	}
	// Promotion: the stable subset moves to the canary's pods first.
	d = subsetDesired(0)
	d.StableHash = "bbb222"
	w, err = r.Plan(ro, observed, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Updates) != 2 || w.Updates[0].GetKind() != "DestinationRule" {
		t.Fatalf("want the DestinationRule first on promotion, got %d updates", len(w.Updates))
	}
}

func TestSubsetRouteMustNameBothSubsets(t *testing.T) {
	ro := trtest.Rollout(t, subsetRollout)
	vs := trtest.Obj(t, `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  http:
  - name: primary
    route:
    - destination: {host: reviews, subset: canary}
      weight: 100
`)
	w, err := New("").Plan(ro, observe(vs, trtest.Obj(t, subsetDR)), subsetDesired(10))
	trtest.ErrContains(t, err, `"bookinfo/reviews"`, `HTTP route "primary"`, `stable DestinationRule subset "stable" not found`)
	trtest.NoWrites(t, w)

	w, err = New("").Plan(ro, observe(trtest.Obj(t, subsetVS)), subsetDesired(10))
	trtest.ErrContains(t, err, `DestinationRule "bookinfo/reviews" not found`)
	trtest.NoWrites(t, w)

	trtest.ErrContains(t, New("").Validate(ro, observe(vs, trtest.Obj(t, subsetDR))), `HTTP route "primary"`, `stable DestinationRule subset "stable" not found`)
	trtest.ErrContains(t, New("").Validate(ro, observe(trtest.Obj(t, subsetVS))), `DestinationRule "bookinfo/reviews" not found`)
	if err := New("").Validate(ro, observe(trtest.Obj(t, subsetVS), trtest.Obj(t, subsetDR))); err != nil {
		t.Fatalf("subsets that can carry the split: %v", err)
	}
}

func TestExperimentSubsetsAndAdditionalSubsetNames(t *testing.T) {
	ro := trtest.Rollout(t, subsetRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.Istio.DestinationRule.AdditionalSubsetNames = []string{"leftover"}
	d := subsetDesired(10)
	d.Additional = append(d.Additional, v1alpha1.WeightDestination{ServiceName: "reviews-exp", Weight: 5, PodTemplateHash: "eee555"})
	w, err := New("").Plan(ro, observe(trtest.Obj(t, subsetVS), trtest.Obj(t, subsetDR)), d)
	if err != nil {
		t.Fatal(err)
	}
	trtest.EqualValue(t, w.Updates[0].Object["spec"].(map[string]any)["subsets"], `
- name: stable
  labels: {app: reviews, rollouts-pod-template-hash: aaa111}
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
- name: canary
  labels: {app: reviews, rollouts-pod-template-hash: bbb222}
- name: leftover
  labels: {version: v0}
- name: reviews-exp
  labels: {rollouts-pod-template-hash: eee555}
`)
}

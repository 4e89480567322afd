package plan

import (
	"testing"
)

// benchState is a converged canary (5 pods) or one paused at its first step.
func benchState(b *testing.B, midRollout bool) State {
	w := newWorld(b, canaryRollout(setWeight(20), pauseFor(""), setWeight(60), pauseFor("")))
	w.addService("demo-stable")
	w.ro.Spec.Strategy.Canary.StableService = "demo-stable"
	w.settle()
	if midRollout {
		w.setImage("demo:v2")
		w.settle()
	}
	return w.state()
}

// BenchmarkComputeConverged is the cost of deciding that a converged Rollout
// needs nothing: what every resync of an idle Rollout costs.
//
//	go test ./pkg/rollout/plan -run '^$' -bench Compute -benchmem
func BenchmarkComputeConverged(b *testing.B) {
	st := benchState(b, false)
	b.ReportAllocs()
	for b.Loop() {
		p := Compute(st)
		if p.Create != nil || len(p.ReplicaSetUpdates()) > 0 {
			b.Fatal("a converged Rollout planned writes")
		}
	}
}

// BenchmarkComputeMidRollout is one reconcile of a canary paused at a step.
func BenchmarkComputeMidRollout(b *testing.B) {
	st := benchState(b, true)
	b.ReportAllocs()
	for b.Loop() {
		Compute(st)
	}
}

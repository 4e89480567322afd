package plan

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// FuzzCompute drives canary Rollouts with fuzzed numbers through fuzzed
// sequences of reconciles and user actions, plain and behind Istio. Nothing
// panics; a spec outside the bounds is refused without a write; and at every
// point each ReplicaSet's count is within [0, replicas+surge] and every
// weight within [0, maxTrafficWeight].
func FuzzCompute(f *testing.F) {
	f.Add(int32(5), int32(1), int32(0), false, int32(20), int32(60), false, []byte{0, 1, 0, 2, 0, 0, 2, 0})
	f.Add(int32(10), int32(25), int32(25), true, int32(50), int32(100), true, []byte{1, 0, 0, 3, 0, 4, 0})
	f.Add(int32(1), int32(0), int32(0), false, int32(100), int32(0), true, []byte{1, 0, 2, 0, 1, 0})
	f.Add(int32(2147483647), int32(1), int32(1), false, int32(20), int32(20), false, []byte{0})
	f.Add(int32(3), int32(-4), int32(2), true, int32(-1), int32(101), false, []byte{0, 1})
	f.Fuzz(func(t *testing.T, replicas, surge, unavailable int32, percent bool, w1, w2 int32, istio bool, actions []byte) {
		ro := canaryRollout(setWeight(w1), pauseFor(""), setWeight(w2), pauseFor("10s"))
		ro.Spec.Replicas = &replicas
		ro.Spec.Strategy.Canary.MaxSurge, ro.Spec.Strategy.Canary.MaxUnavailable = fuzzedIntOrPercent(surge, percent), fuzzedIntOrPercent(unavailable, percent)
		w := newWorld(t, ro)
		if istio {
			w = istioWorld(t, ro.Spec.Strategy.Canary.Steps...)
			w.ro.Spec.Replicas = ro.Spec.Replicas
			w.ro.Spec.Strategy.Canary.MaxSurge, w.ro.Spec.Strategy.Canary.MaxUnavailable = ro.Spec.Strategy.Canary.MaxSurge, ro.Spec.Strategy.Canary.MaxUnavailable
		}
		if len(Validate(w.ro)) > 0 {
			expectRefusedQuietly(t, Compute(w.state()))
			return
		}
		if replicas > 40 {
			// Too many pods to simulate; one reconcile still plans within bounds.
			w.checkBounds(t, Compute(w.state()))
			return
		}
		for i, a := range actions {
			if i == 24 {
				break
			}
			w.act(a)
			w.checkBounds(t, w.step())
		}
	})
}

func fuzzedIntOrPercent(v int32, percent bool) *intstr.IntOrString {
	if percent {
		s := intstr.FromString(fmt.Sprintf("%d%%", v))
		return &s
	}
	s := intstr.FromInt32(v)
	return &s
}

// act does what a user or the clock would between two reconciles.
func (w *world) act(a byte) {
	switch a % 6 {
	case 1:
		w.setImage(fmt.Sprintf("demo:v%d", w.ro.Generation+1))
	case 2:
		w.promote()
	case 3:
		w.advance(11 * time.Second)
	case 4:
		w.ro.Status.Abort = true
	case 5:
		w.ro.Status.Abort = false
	}
}

func expectRefusedQuietly(t *testing.T, p Plan) {
	t.Helper()
	if condition(p.Status, v1alpha1.InvalidSpec) == nil {
		t.Fatalf("an invalid spec was planned for: %+v", p.Status)
	}
	if p.Create != nil || len(p.ReplicaSetUpdates())+len(p.Deletes)+len(p.RouterWrites)+len(p.ServiceSwitches) > 0 {
		t.Fatal("an invalid spec was written for")
	}
}

// checkBounds fails when a planned count or weight leaves its range.
func (w *world) checkBounds(t *testing.T, p Plan) {
	t.Helper()
	replicas := specReplicas(w.ro)
	surge, _ := surgeAndUnavailable(w.ro)
	most := replicas + surge
	for _, rs := range append(p.ReplicaSetUpdates(), p.Create) {
		if rs == nil {
			continue
		}
		if n := rsReplicas(rs); n < 0 || n > most {
			t.Fatalf("ReplicaSet %s planned at %d pods, outside [0, %d]", rs.Name, n, most)
		}
	}
	maxW := maxTrafficWeight(w.ro)
	if tw := p.Status.Canary.Weights; tw != nil {
		if c := tw.Canary.Weight; c < 0 || c > maxW {
			t.Fatalf("canary weight %d outside [0, %d]", c, maxW)
		}
		if s := tw.Stable.Weight; s < 0 || s > maxW {
			t.Fatalf("stable weight %d outside [0, %d]", s, maxW)
		}
	}
	if len(w.routers) > 0 {
		if stable, canary := w.vsWeights(); stable < 0 || canary < 0 || stable+canary != int64(maxW) {
			t.Fatalf("VirtualService weights %d/%d do not add up to %d", stable, canary, maxW)
		}
	}
}

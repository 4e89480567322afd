package plan

import (
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// The largest values the spec can hold are served, not crashed on: a
// duration of almost 300 years is waited for exactly.
func TestHugeValuesDoNotOverflow(t *testing.T) {
	w := newWorld(t, experiment("a"))
	w.ex.Spec.Duration = "2562047h"
	w.ex.Spec.ProgressDeadlineSeconds = int32p(1<<31 - 1)
	w.ex.Spec.ScaleDownDelaySeconds = int32p(1<<31 - 1)
	w.ex.Spec.Templates[0].Replicas = int32p(1<<31 - 1)
	p := w.settle(10)
	w.wantPhase(v1alpha1.AnalysisPhaseRunning, "")
	if p.RequeueAfter != 2562047*time.Hour {
		t.Errorf("requeue %v", p.RequeueAfter)
	}
	w.ex.Spec.Terminate = true
	w.step()
	if p = w.step(); p.RequeueAfter != time.Duration(1<<31-1)*time.Second {
		t.Errorf("scale-down requeue %v", p.RequeueAfter)
	}
}

// FuzzCompute drives experiments with arbitrary numbers, durations, phases
// and readiness through several reconciles: no panic, no negative replicas,
// no negative requeue, and a terminal phase is never left.
func FuzzCompute(f *testing.F) {
	f.Add(int32(1), "30s", int32(600), int32(30), "", false, true, uint8(3))
	f.Add(int32(0), "", int32(0), int32(0), "Running", true, false, uint8(0))
	f.Add(int32(-1), "-5s", int32(-1), int32(-1), "Failed", false, true, uint8(9))
	f.Add(int32(1<<31-1), "2562047h47m16s", int32(1<<31-1), int32(1<<31-1), "Bogus", true, true, uint8(255))
	f.Fuzz(func(t *testing.T, replicas int32, duration string, deadline, delay int32, phase string, terminate, ready bool, steps uint8) {
		w := newWorld(t, experiment("a", "b"))
		w.ex.Spec.Templates[0].Replicas = &replicas
		w.ex.Spec.Duration = v1alpha1.DurationString(duration)
		w.ex.Spec.ProgressDeadlineSeconds = &deadline
		w.ex.Spec.ScaleDownDelaySeconds = &delay
		w.ex.Status.Phase = v1alpha1.AnalysisPhase(phase)
		w.ready = ready
		for i := range int(steps % 12) {
			wasDone := w.ex.Status.Phase.Completed()
			before := w.ex.Status.Phase
			p := w.step()
			if p.RequeueAfter < 0 {
				t.Fatalf("negative requeue %v", p.RequeueAfter)
			}
			if wasDone && w.ex.Status.Phase != before {
				t.Fatalf("left terminal phase %s for %s", before, w.ex.Status.Phase)
			}
			for _, rs := range w.rs {
				if *rs.Spec.Replicas < 0 {
					t.Fatalf("negative replicas %d", *rs.Spec.Replicas)
				}
			}
			w.wait(time.Duration(i) * 17 * time.Second)
			if i == 5 {
				w.ex.Spec.Terminate = terminate
			}
		}
	})
}

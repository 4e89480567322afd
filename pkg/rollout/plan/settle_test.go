package plan

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
)

// stepUntilStatusOnlyAdvance reconciles (Compute only) until the next plan
// would move currentStepIndex from `from` while writing nothing but the
// status, and returns the state it would plan from.
func stepUntilStatusOnlyAdvance(w *world, from int32) State {
	w.t.Helper()
	for range 30 {
		st := w.state()
		p := Compute(st)
		if !p.writesBeyondStatus() && stepIndex(st.Rollout.Status) == from && stepIndex(p.Status) == from+1 {
			return st
		}
		w.step()
	}
	w.t.Fatalf("step %d never completed with a status-only plan; status %+v", from, w.ro.Status)
	return State{}
}

func stepIndex(s v1alpha1.RolloutStatus) int32 {
	if s.CurrentStepIndex == nil {
		return -1
	}
	return *s.CurrentStepIndex
}

func reasons(events []event.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}

func TestSettleStartsThePauseInTheWriteThatCompletesTheStep(t *testing.T) {
	// One replica, as in the release wave of the benchmarks: the canary
	// pod is the whole Rollout, so nothing is left to scale up when the
	// last step ends.
	ro := canaryRollout(setWeight(20), pauseFor("10s"))
	ro.Spec.Replicas = int32Ptr(1)
	w := newWorld(t, ro)
	w.settle()
	w.setImage("demo:v2")
	st := stepUntilStatusOnlyAdvance(w, 0)

	if alone := Compute(st); len(alone.Status.PauseConditions) != 0 {
		t.Fatalf("Compute alone already paused (%+v): this test no longer shows a chain", alone.Status.PauseConditions)
	}
	p := Settle(st)
	if p.writesBeyondStatus() {
		t.Fatalf("the settled plan writes beyond the status: %+v", p)
	}
	if stepIndex(p.Status) != 1 || len(p.Status.PauseConditions) != 1 || p.Status.Phase != v1alpha1.RolloutPhasePaused {
		t.Fatalf("settled status: step %d, pause %+v, phase %s; want step 1 paused", stepIndex(p.Status), p.Status.PauseConditions, p.Status.Phase)
	}
	if got, want := reasons(p.Events), []string{v1alpha1.EventRolloutStepCompleted, v1alpha1.EventRolloutPaused}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v in that order", got, want)
	}
	if p.RequeueAfter != 10*time.Second {
		t.Errorf("requeue after %s, want the pause's 10s", p.RequeueAfter)
	}

}

// A plan that ends a pause is written alone when the next one writes
// ReplicaSets: stopped between those writes and the status, a controller
// would find the canary grown for a step the status has not reached and
// shrink it back, and the next one grow it again.
func TestSettleDoesNotChainWritesAfterAStatusOnlyPlan(t *testing.T) {
	ro := canaryRollout(setWeight(25), pauseFor("1s"), setWeight(75))
	ro.Spec.Replicas = int32Ptr(4)
	w := newWorld(t, ro)
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.expectStep(1)
	w.advance(2 * time.Second)
	st := w.state()
	p := Settle(st)
	if p.writesBeyondStatus() {
		t.Fatalf("the pause's end was chained with the next step's writes: grows %d updates %d", len(p.Grows), len(p.Updates))
	}
	if stepIndex(p.Status) != 2 || len(p.Status.PauseConditions) != 0 {
		t.Fatalf("after the pause: step %d, pause %+v; want step 2", stepIndex(p.Status), p.Status.PauseConditions)
	}
	// The next reconcile resizes for the next step. Stopped after those
	// writes and before its status patch, the controller replans from the
	// status written above and must not undo them.
	w.ro.Status = p.Status
	resize := Compute(w.state())
	if len(resize.ReplicaSetUpdates()) == 0 {
		t.Fatal("the step after the pause must resize the ReplicaSets")
	}
	before := map[string]int32{}
	for _, rs := range resize.ReplicaSetUpdates() {
		before[rs.Name] = *w.rss[rs.Name].Spec.Replicas
		w.rss[rs.Name] = rs.DeepCopy()
	}
	for _, rs := range Settle(w.state()).ReplicaSetUpdates() {
		if was, ok := before[rs.Name]; ok && *rs.Spec.Replicas == was {
			t.Errorf("replanned, %s is resized back to %d", rs.Name, was)
		}
	}
}

func TestSettleCreatesANewRevisionAtTheSizeOfItsFirstStep(t *testing.T) {
	ro := canaryRollout(setWeight(50), pauseFor(""))
	ro.Spec.Replicas = int32Ptr(1) // the stable keeps its pod: the canary's comes first
	w := newWorld(t, ro)
	w.settle()
	w.setImage("demo:v2")
	st := w.state()
	alone := Compute(st)
	if alone.Create == nil || *alone.Create.Spec.Replicas != 0 {
		t.Fatalf("Compute alone must create the new ReplicaSet empty: %+v", alone.Create)
	}
	p := Settle(st)
	if p.Create == nil || p.Create.Name != alone.Create.Name || *p.Create.Spec.Replicas != 1 {
		t.Fatalf("settled create %+v, want %s with the step's one pod", p.Create, alone.Create.Name)
	}
	for _, rs := range p.ReplicaSetUpdates() {
		if rs.Name == p.Create.Name {
			t.Errorf("the ReplicaSet created is also updated: %+v", rs)
		}
	}
	if p.Revision != "2" {
		t.Errorf("revision annotation %q, want 2", p.Revision)
	}
	got := reasons(p.Events)
	want := []string{v1alpha1.EventRolloutNotCompleted, v1alpha1.EventRolloutUpdated, v1alpha1.EventNewReplicaSetCreated, v1alpha1.EventScalingReplicaSet}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// abortedCanary is the state of a basic canary at 40 % just aborted.
func abortedCanary(t *testing.T) State {
	w := newWorld(t, canaryRollout(setWeight(40), pauseFor("")))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.ro.Status.Abort = true
	return w.state()
}

func TestSettleKeepsAPlanThatWritesMoreThanTheStatus(t *testing.T) {
	st := abortedCanary(t)
	p, alone := Settle(st), Compute(st)
	if len(alone.Grows) == 0 || !reflect.DeepEqual(p, alone) {
		t.Fatalf("a reconcile that resizes ReplicaSets must plan as Compute does")
	}
}

func TestSettleStopsBeforeAStepPluginMustBeAsked(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), v1alpha1.CanaryStep{Plugin: &v1alpha1.PluginStep{Name: "acme/gate"}}))
	w.settle()
	w.setImage("demo:v2")
	st := stepUntilStatusOnlyAdvance(w, 0)
	if p, alone := Settle(st), Compute(st); !reflect.DeepEqual(p, alone) {
		t.Fatalf("the chain went on into a plugin step whose plugin was not asked: %+v", p.Status.Canary.StepPluginStatuses)
	}
}

func TestSettleStopsWhenNothingMoreChanges(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor("")))
	w.settle()
	st := w.state()
	if p, alone := Settle(st), Compute(st); !reflect.DeepEqual(p, alone) {
		t.Fatal("a converged Rollout must plan as Compute does")
	}
}

// Every field of Plan that writes something must stop the chain; a new one
// must be added to writesBeyondStatus.
func TestWritesBeyondStatusCoversEveryWriteOfAPlan(t *testing.T) {
	notWrites := map[string]bool{"Status": true, "Events": true, "Finished": true, "RequeueAfter": true}
	typ := reflect.TypeOf(Plan{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		var p Plan
		v := reflect.ValueOf(&p).Elem().Field(i)
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(true)
		case reflect.String:
			v.SetString("x")
		case reflect.Pointer:
			v.Set(reflect.New(f.Type.Elem()))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(f.Type, 1, 1))
		default:
			if !notWrites[f.Name] {
				t.Errorf("field %s (%s): classify it in writesBeyondStatus", f.Name, f.Type)
			}
			continue
		}
		if got := p.writesBeyondStatus(); got == notWrites[f.Name] {
			t.Errorf("field %s set: writesBeyondStatus = %v", f.Name, got)
		}
	}
}

func TestATimedPauseEndsWhenItsStoredStartSays(t *testing.T) {
	w := newWorld(t, canaryRollout(setWeight(20), pauseFor("10s")))
	w.settle()
	w.setImage("demo:v2")
	w.advance(700 * time.Millisecond) // the API server keeps whole seconds
	w.settle()
	pc := w.ro.Status.PauseConditions
	if len(pc) != 1 || !pc[0].StartTime.Time.Equal(w.now.Truncate(time.Second)) {
		t.Fatalf("pause conditions %+v, want one started at %s", pc, w.now.Truncate(time.Second))
	}
	if w.last.RequeueAfter != 9300*time.Millisecond {
		t.Errorf("requeue after %s, want 9.3s: the stored pause ends then", w.last.RequeueAfter)
	}
}

func TestGrowsHoldTheReplicaSetsThatScaleUp(t *testing.T) {
	st := abortedCanary(t)
	p := Compute(st)
	observed := map[string]int32{}
	for _, rs := range st.ReplicaSets {
		observed[rs.Name] = *rs.Spec.Replicas
	}
	if len(p.Grows) == 0 {
		t.Fatal("an abort of a basic canary must scale the stable ReplicaSet back up")
	}
	for _, rs := range p.Grows {
		if *rs.Spec.Replicas <= observed[rs.Name] {
			t.Errorf("grow %s: %d replicas, observed %d", rs.Name, *rs.Spec.Replicas, observed[rs.Name])
		}
	}
	for _, rs := range p.Updates {
		if *rs.Spec.Replicas > observed[rs.Name] {
			t.Errorf("update %s scales up (%d > %d): it belongs with the grows", rs.Name, *rs.Spec.Replicas, observed[rs.Name])
		}
	}
}

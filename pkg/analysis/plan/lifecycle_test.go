package plan

import (
	"reflect"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
)

// Terminating, retention, TTL and events of a run.

func TestScheduleAndRequeue(t *testing.T) {
	t.Run("the interval counts from the last finishedAt and the requeue is exact", func(t *testing.T) {
		s := newSim(t, newRun(newMetric("m", interval("1m"), count(3))), map[string][]v1alpha1.AnalysisPhase{"m": {S, S, S}})
		if got := len(s.reconcile().Tasks); got != 1 {
			t.Fatalf("%d tasks", got)
		}
		if s.last.RequeueAfter != time.Minute {
			t.Fatalf("requeue after %v, want 1m", s.last.RequeueAfter)
		}
		s.now = at(59 * time.Second)
		if got := len(s.reconcile().Tasks); got != 0 || s.last.RequeueAfter != time.Second {
			t.Fatalf("early reconcile: %d tasks, requeue %v", got, s.last.RequeueAfter)
		}
		s.now = at(time.Minute)
		if got := len(s.reconcile().Tasks); got != 1 || s.last.RequeueAfter != time.Minute {
			t.Fatalf("due reconcile: %d tasks, requeue %v", got, s.last.RequeueAfter)
		}
	})
	t.Run("initialDelay postpones the first measurement from startedAt", func(t *testing.T) {
		s := newSim(t, newRun(newMetric("m", initialDelay("30s"))), map[string][]v1alpha1.AnalysisPhase{"m": {S}})
		if got := len(s.reconcile().Tasks); got != 0 {
			t.Fatalf("%d tasks before the delay", got)
		}
		if s.run.Status.Phase != R || s.run.Status.StartedAt == nil || !s.run.Status.StartedAt.Time.Equal(t0) || s.last.RequeueAfter != 30*time.Second {
			t.Fatalf("phase %s startedAt %v requeue %v", s.run.Status.Phase, s.run.Status.StartedAt, s.last.RequeueAfter)
		}
		s.now = at(30 * time.Second)
		if got := len(s.reconcile().Tasks); got != 1 || s.run.Status.Phase != S {
			t.Fatalf("%d tasks, phase %s", got, s.run.Status.Phase)
		}
	})
	t.Run("an in-flight measurement is resumed at its resumeAt", func(t *testing.T) {
		run := newRun(newMetric("job"))
		run.Status = v1alpha1.AnalysisRunStatus{Phase: R, StartedAt: mt(t0), MetricResults: []v1alpha1.MetricResult{{
			Name: "job", Phase: R, Measurements: []v1alpha1.Measurement{{Phase: R, StartedAt: mt(t0), ResumeAt: mt(at(5 * time.Second))}},
		}}}
		sched := Schedule(State{Run: run, Now: at(4 * time.Second)})
		if len(sched.Tasks) != 0 {
			t.Fatal("resumed before resumeAt")
		}
		p := Compute(State{Run: run, Now: at(4 * time.Second)}, sched, Measured{Now: at(4 * time.Second)})
		if p.RequeueAfter != time.Second {
			t.Fatalf("requeue %v, want 1s", p.RequeueAfter)
		}
		sched = Schedule(State{Run: run, Now: at(5 * time.Second)})
		if len(sched.Tasks) != 1 || sched.Tasks[0].Action != ActionResume || sched.Tasks[0].Metric.Name != "job" ||
			sched.Tasks[0].InFlight == nil || !reflect.DeepEqual(*sched.Tasks[0].InFlight, run.Status.MetricResults[0].Measurements[0]) {
			t.Fatalf("tasks %+v", sched.Tasks)
		}
	})
	t.Run("a metric with only an interval runs until the run is terminated", func(t *testing.T) {
		s := newSim(t, newRun(newMetric("m", interval("10s"))), map[string][]v1alpha1.AnalysisPhase{"m": {S, S, S}})
		for i := 0; i < 3; i++ {
			s.reconcile()
			s.now = s.now.Add(s.last.RequeueAfter)
		}
		if s.run.Status.Phase != R {
			t.Fatalf("phase %s", s.run.Status.Phase)
		}
		s.run.Spec.Terminate = true
		if got := len(s.reconcile().Tasks); got != 0 {
			t.Fatalf("%d tasks after terminate", got)
		}
		if st := s.run.Status; st.Phase != S || st.Message != "Run Terminated" || st.MetricResults[0].Count != 3 {
			t.Fatalf("status %+v", st)
		}
	})
}

func TestTerminate(t *testing.T) {
	t.Run("nothing measured yet: Successful, Run Terminated", func(t *testing.T) {
		run := newRun(newMetric("m", initialDelay("1h")))
		run.Spec.Terminate = true
		s := newSim(t, run, nil)
		s.reconcile()
		if st := s.run.Status; st.Phase != S || st.Message != MessageRunTerminated || st.CompletedAt == nil || !st.CompletedAt.Time.Equal(t0) {
			t.Fatalf("status %+v", st)
		}
	})
	t.Run("an in-flight measurement is terminated and says so", func(t *testing.T) {
		run := newRun(newMetric("job"))
		run.Spec.Terminate = true
		run.Status = v1alpha1.AnalysisRunStatus{Phase: R, StartedAt: mt(t0), MetricResults: []v1alpha1.MetricResult{{
			Name: "job", Phase: R, Measurements: []v1alpha1.Measurement{{Phase: R, StartedAt: mt(t0)}},
		}}}
		s := newSim(t, run, map[string][]v1alpha1.AnalysisPhase{"job": {S}})
		sched := s.reconcile()
		if len(sched.Tasks) != 1 || sched.Tasks[0].Action != ActionTerminate {
			t.Fatalf("tasks %+v", sched.Tasks)
		}
		r := s.run.Status.MetricResults[0]
		if len(r.Measurements) != 1 || r.Measurements[0].Message != MessageMetricTerminated || r.Phase != S {
			t.Fatalf("result %+v", r)
		}
		if s.run.Status.Phase != S || s.run.Status.Message != MessageRunTerminated {
			t.Fatalf("run %s %q", s.run.Status.Phase, s.run.Status.Message)
		}
	})
	t.Run("a failed metric stops the others on the next reconcile, asked for at once", func(t *testing.T) {
		s := newSim(t, newRun(newMetric("slow", interval("1h"), count(2)), newMetric("fast")), map[string][]v1alpha1.AnalysisPhase{"slow": {S}, "fast": {F}})
		s.reconcile()
		if s.run.Status.Phase != R || s.last.RequeueAfter != minRequeue {
			t.Fatalf("phase %s requeue %v", s.run.Status.Phase, s.last.RequeueAfter)
		}
		s.now = s.now.Add(s.last.RequeueAfter)
		if got := len(s.reconcile().Tasks); got != 0 {
			t.Fatalf("%d tasks while terminating", got)
		}
		if st := s.run.Status; st.Phase != F || st.MetricResultByName("slow").Phase != S {
			t.Fatalf("status %+v", st)
		}
	})
}

func TestMeasurementRetention(t *testing.T) {
	phases := make([]v1alpha1.AnalysisPhase, 12)
	for i := range phases {
		phases[i] = S
	}
	t.Run("ten measurements are kept by default and the provider collects the rest", func(t *testing.T) {
		s := newSim(t, newRun(newMetric("m", interval("1s"), count(12))), map[string][]v1alpha1.AnalysisPhase{"m": append([]v1alpha1.AnalysisPhase(nil), phases...)})
		var collected []int
		for !s.run.Status.Phase.Completed() {
			s.reconcile()
			for _, c := range s.last.Collect {
				collected = append(collected, c.Limit)
			}
			s.now = s.now.Add(time.Second)
		}
		r := s.run.Status.MetricResults[0]
		if len(r.Measurements) != 10 || r.Count != 12 || !r.Measurements[9].StartedAt.Time.Equal(at(11*time.Second)) {
			t.Fatalf("%d measurements, count %d", len(r.Measurements), r.Count)
		}
		if !reflect.DeepEqual(collected, []int{10, 10}) {
			t.Fatalf("collected %v", collected)
		}
	})
	t.Run("a matching measurementRetention rule sets the limit", func(t *testing.T) {
		run := newRun(newMetric("keep-3", interval("1s"), count(5)), newMetric("other", interval("1s"), count(5)))
		run.Spec.MeasurementRetention = []v1alpha1.MeasurementRetention{{MetricName: "keep-.*", Limit: 3}}
		s := newSim(t, run, map[string][]v1alpha1.AnalysisPhase{"keep-3": phases[:5], "other": append([]v1alpha1.AnalysisPhase(nil), phases[:5]...)})
		s.runUntilDone()
		if got := len(s.run.Status.MetricResultByName("keep-3").Measurements); got != 3 {
			t.Errorf("keep-3 kept %d", got)
		}
		if got := len(s.run.Status.MetricResultByName("other").Measurements); got != 5 {
			t.Errorf("other kept %d", got)
		}
	})
}

func TestTTL(t *testing.T) {
	i32 := func(i int32) *int32 { return &i }
	completed := func(phase v1alpha1.AnalysisPhase, ttl v1alpha1.TTLStrategy) *v1alpha1.AnalysisRun {
		r := newRun(newMetric("m"))
		r.Spec.TTLStrategy = &ttl
		r.Status = v1alpha1.AnalysisRunStatus{Phase: phase, CompletedAt: mt(t0)}
		return r
	}
	tests := map[string]struct {
		run         *v1alpha1.AnalysisRun
		now         time.Duration
		wantDelete  bool
		wantRequeue time.Duration
	}{
		"before secondsAfterCompletion: requeue exactly at it": {run: completed(S, v1alpha1.TTLStrategy{SecondsAfterCompletion: i32(60)}), now: 20 * time.Second, wantRequeue: 40 * time.Second},
		"at secondsAfterCompletion: delete":                    {run: completed(S, v1alpha1.TTLStrategy{SecondsAfterCompletion: i32(60)}), now: time.Minute, wantDelete: true},
		"secondsAfterSuccess wins for a Successful run":        {run: completed(S, v1alpha1.TTLStrategy{SecondsAfterCompletion: i32(60), SecondsAfterSuccess: i32(10)}), now: 10 * time.Second, wantDelete: true},
		"secondsAfterFailure wins for a Failed run":            {run: completed(F, v1alpha1.TTLStrategy{SecondsAfterCompletion: i32(60), SecondsAfterFailure: i32(120)}), now: time.Minute, wantRequeue: time.Minute},
		"an Error run falls back to secondsAfterCompletion":    {run: completed(E, v1alpha1.TTLStrategy{SecondsAfterSuccess: i32(1), SecondsAfterCompletion: i32(5)}), now: 5 * time.Second, wantDelete: true},
		"no applicable ttl: kept forever":                      {run: completed(I, v1alpha1.TTLStrategy{SecondsAfterSuccess: i32(1)}), now: time.Hour},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			st := State{Run: tt.run, Now: at(tt.now)}
			p := Compute(st, Schedule(st), Measured{Now: st.Now})
			if p.Delete != tt.wantDelete || p.RequeueAfter != tt.wantRequeue {
				t.Errorf("delete %v requeue %v, want %v %v", p.Delete, p.RequeueAfter, tt.wantDelete, tt.wantRequeue)
			}
			if !reflect.DeepEqual(p.Status, tt.run.Status) || len(p.Events) > 0 {
				t.Errorf("a completed run's status or events changed")
			}
		})
	}
	t.Run("a run that completes now asks for its TTL", func(t *testing.T) {
		run := newRun(newMetric("m"))
		run.Spec.TTLStrategy = &v1alpha1.TTLStrategy{SecondsAfterCompletion: i32(30)}
		s := newSim(t, run, map[string][]v1alpha1.AnalysisPhase{"m": {S}})
		s.reconcile()
		if s.run.Status.Phase != S || s.last.RequeueAfter != 30*time.Second {
			t.Fatalf("phase %s requeue %v", s.run.Status.Phase, s.last.RequeueAfter)
		}
	})
}

func TestMetricEvents(t *testing.T) {
	s := newSim(t, newRun(newMetric("a"), newMetric("b")), map[string][]v1alpha1.AnalysisPhase{"a": {S}, "b": {F}})
	s.reconcile()
	want := []event.Event{
		{Reason: "MetricSuccessful", Message: "Metric 'a' Completed. Result: Successful"},
		{Warning: true, Reason: "MetricFailed", Message: "Metric 'b' Completed. Result: Failed"},
		{Warning: true, Reason: "AnalysisRunFailed", Message: "Analysis Completed. Result: Failed"},
	}
	if !reflect.DeepEqual(s.events, want) {
		t.Errorf("events %+v\nwant %+v", s.events, want)
	}
	if s.run.Status.MetricResultByName("a").Metadata["k"] != "v" {
		t.Error("provider metadata not recorded")
	}
}

func TestWorst(t *testing.T) {
	order := []v1alpha1.AnalysisPhase{S, R, v1alpha1.AnalysisPhasePending, I, E, F}
	for i := range order {
		for j := range order {
			want := order[max(i, j)]
			if got := Worst(order[i], order[j]); got != want {
				t.Errorf("Worst(%s, %s) = %s, want %s", order[i], order[j], got, want)
			}
		}
	}
}

package plan

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func mt(t time.Time) *metav1.Time { m := metav1.NewTime(t); return &m }

func ios(i int) *intstr.IntOrString { v := intstr.FromInt32(int32(i)); return &v }

// metricOpt changes a test metric.
type metricOpt func(*v1alpha1.Metric)

func interval(d string) metricOpt {
	return func(m *v1alpha1.Metric) { m.Interval = v1alpha1.DurationString(d) }
}
func count(n int) metricOpt { return func(m *v1alpha1.Metric) { m.Count = ios(n) } }
func failureLimit(n int) metricOpt {
	return func(m *v1alpha1.Metric) { m.FailureLimit = ios(n) }
}
func inconclusiveLimit(n int) metricOpt {
	return func(m *v1alpha1.Metric) { m.InconclusiveLimit = ios(n) }
}
func consecutiveSuccessLimit(n int) metricOpt {
	return func(m *v1alpha1.Metric) { m.ConsecutiveSuccessLimit = ios(n) }
}
func consecutiveErrorLimit(n int) metricOpt {
	return func(m *v1alpha1.Metric) { m.ConsecutiveErrorLimit = ios(n) }
}
func initialDelay(d string) metricOpt {
	return func(m *v1alpha1.Metric) { m.InitialDelay = v1alpha1.DurationString(d) }
}

func newMetric(name string, opts ...metricOpt) v1alpha1.Metric {
	m := v1alpha1.Metric{Name: name, Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Query: "up"}}}
	for _, o := range opts {
		o(&m)
	}
	return m
}

func newRun(metrics ...v1alpha1.Metric) *v1alpha1.AnalysisRun {
	return &v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{Name: "run", Namespace: "default"},
		Spec:       v1alpha1.AnalysisRunSpec{Metrics: metrics},
	}
}

// sim drives a run through reconciles: every due task gets the next phase
// scripted for its metric, measured in no time.
type sim struct {
	t      *testing.T
	run    *v1alpha1.AnalysisRun
	now    time.Time
	script map[string][]v1alpha1.AnalysisPhase
	events []event.Event
	last   Plan
}

func newSim(t *testing.T, run *v1alpha1.AnalysisRun, script map[string][]v1alpha1.AnalysisPhase) *sim {
	return &sim{t: t, run: run, now: t0, script: script}
}

// reconcile runs one reconcile at s.now and returns the scheduled tasks.
func (s *sim) reconcile() Scheduled {
	st := State{Run: s.run, Now: s.now}
	sched := Schedule(st)
	var outcomes []Outcome
	for i, task := range sched.Tasks {
		phases := s.script[task.Metric.Name]
		if len(phases) == 0 {
			s.t.Fatalf("metric %s measured more often than scripted", task.Metric.Name)
		}
		phase := phases[0]
		s.script[task.Metric.Name] = phases[1:]
		m := v1alpha1.Measurement{Phase: phase, StartedAt: mt(s.now), Value: "[1]"}
		if task.InFlight != nil {
			m = *task.InFlight
			m.Phase = phase
		}
		if phase == v1alpha1.AnalysisPhaseError {
			m.Message = "backend down"
		}
		if phase.Completed() {
			m.FinishedAt = mt(s.now)
		}
		outcomes = append(outcomes, Outcome{Task: i, Measurement: m, Metadata: map[string]string{"k": "v"}})
	}
	p := Compute(st, sched, Measured{Outcomes: outcomes, Now: s.now})
	s.run = s.run.DeepCopy()
	s.run.Status = p.Status
	s.events = append(s.events, p.Events...)
	s.last = p
	return sched
}

// runUntilDone reconciles at each requeue until the run completes.
func (s *sim) runUntilDone() {
	for i := 0; i < 100; i++ {
		s.reconcile()
		if s.run.Status.Phase.Completed() {
			return
		}
		if s.last.RequeueAfter <= 0 {
			s.t.Fatalf("run %s is not complete and asks for no requeue", s.run.Status.Phase)
		}
		s.now = s.now.Add(s.last.RequeueAfter)
	}
	s.t.Fatal("run did not complete")
}

func (s *sim) reasons() []string {
	var out []string
	for _, e := range s.events {
		out = append(out, e.Reason)
	}
	return out
}

const (
	S = v1alpha1.AnalysisPhaseSuccessful
	F = v1alpha1.AnalysisPhaseFailed
	I = v1alpha1.AnalysisPhaseInconclusive
	E = v1alpha1.AnalysisPhaseError
	R = v1alpha1.AnalysisPhaseRunning
)

func TestRunOutcomes(t *testing.T) {
	tests := map[string]struct {
		metrics     []v1alpha1.Metric
		dryRun      []v1alpha1.DryRun
		script      map[string][]v1alpha1.AnalysisPhase
		wantPhase   v1alpha1.AnalysisPhase
		wantMessage string
		wantMetric  map[string]v1alpha1.AnalysisPhase
		wantSummary v1alpha1.RunSummary
		wantDry     v1alpha1.RunSummary
	}{
		"one successful measurement with no count or interval completes the run": {
			metrics:     []v1alpha1.Metric{newMetric("m")},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {S}},
			wantPhase:   S,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": S},
			wantSummary: v1alpha1.RunSummary{Count: 1, Successful: 1},
		},
		"a failure over failureLimit 0 fails the run with upstream's message": {
			metrics:     []v1alpha1.Metric{newMetric("m")},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {F}},
			wantPhase:   F,
			wantMessage: `Metric "m" assessed Failed due to failed (1) > failureLimit (0)`,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": F},
			wantSummary: v1alpha1.RunSummary{Count: 1, Failed: 1},
		},
		"failures within failureLimit still succeed once count is reached": {
			metrics:     []v1alpha1.Metric{newMetric("m", interval("1m"), count(3), failureLimit(1))},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {F, S, S}},
			wantPhase:   S,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": S},
			wantSummary: v1alpha1.RunSummary{Count: 1, Successful: 1},
		},
		"the second failure over failureLimit 1 fails before count is reached": {
			metrics:     []v1alpha1.Metric{newMetric("m", interval("1m"), count(5), failureLimit(1))},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {F, S, F}},
			wantPhase:   F,
			wantMessage: `Metric "m" assessed Failed due to failed (2) > failureLimit (1)`,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": F},
			wantSummary: v1alpha1.RunSummary{Count: 1, Failed: 1},
		},
		"failureLimit -1 never fails; consecutiveSuccessLimit ends it": {
			metrics:     []v1alpha1.Metric{newMetric("m", interval("1m"), count(10), failureLimit(-1), consecutiveSuccessLimit(2))},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {F, F, S, F, S, S}},
			wantPhase:   S,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": S},
			wantSummary: v1alpha1.RunSummary{Count: 1, Successful: 1},
		},
		"count reached without the consecutive successes is Inconclusive": {
			metrics:     []v1alpha1.Metric{newMetric("m", interval("1m"), count(4), failureLimit(1), consecutiveSuccessLimit(3))},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {S, S, F, S}},
			wantPhase:   I,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": I},
			wantSummary: v1alpha1.RunSummary{Count: 1, Successful: 1}, // no limit was breached
		},
		"count reached without the consecutive successes and failureLimit -1 is Failed": {
			metrics:     []v1alpha1.Metric{newMetric("m", interval("1m"), count(3), failureLimit(-1), consecutiveSuccessLimit(2))},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {S, F, S}},
			wantPhase:   F,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": F},
			wantSummary: v1alpha1.RunSummary{Count: 1, Successful: 1},
		},
		"an inconclusive measurement over inconclusiveLimit": {
			metrics:     []v1alpha1.Metric{newMetric("m", interval("1m"), count(3), inconclusiveLimit(1))},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {I, S, I}},
			wantPhase:   I,
			wantMessage: `Metric "m" assessed Inconclusive due to inconclusive (2) > inconclusiveLimit (1)`,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": I},
			wantSummary: v1alpha1.RunSummary{Count: 1, Inconclusive: 1},
		},
		"five errors in a row exceed the default consecutiveErrorLimit": {
			metrics:     []v1alpha1.Metric{newMetric("m")},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {E, E, E, E, E}},
			wantPhase:   E,
			wantMessage: `Metric "m" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: backend down"`,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": E},
			wantSummary: v1alpha1.RunSummary{Count: 1, Error: 1},
		},
		"errors are retried and not counted in count": {
			metrics:     []v1alpha1.Metric{newMetric("m", interval("1m"), count(2))},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {E, S, E, E, S}},
			wantPhase:   S,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": S},
			wantSummary: v1alpha1.RunSummary{Count: 1, Successful: 1},
		},
		"consecutiveErrorLimit 0 errors on the first error": {
			metrics:     []v1alpha1.Metric{newMetric("m", consecutiveErrorLimit(0))},
			script:      map[string][]v1alpha1.AnalysisPhase{"m": {E}},
			wantPhase:   E,
			wantMessage: `Metric "m" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): "Error Message: backend down"`,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"m": E},
			wantSummary: v1alpha1.RunSummary{Count: 1, Error: 1},
		},
		"a failing dry-run metric does not fail the run": {
			metrics:     []v1alpha1.Metric{newMetric("real"), newMetric("dry")},
			dryRun:      []v1alpha1.DryRun{{MetricName: "dry"}},
			script:      map[string][]v1alpha1.AnalysisPhase{"real": {S}, "dry": {F}},
			wantPhase:   S,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"real": S, "dry": F},
			wantSummary: v1alpha1.RunSummary{Count: 1, Successful: 1},
			wantDry:     v1alpha1.RunSummary{Count: 1, Failed: 1},
		},
		"only dry-run metrics: the run succeeds whatever they say": {
			metrics:    []v1alpha1.Metric{newMetric("a"), newMetric("b")},
			dryRun:     []v1alpha1.DryRun{{MetricName: ".*"}},
			script:     map[string][]v1alpha1.AnalysisPhase{"a": {F}, "b": {I}},
			wantPhase:  S,
			wantMetric: map[string]v1alpha1.AnalysisPhase{"a": F, "b": I},
			wantDry:    v1alpha1.RunSummary{Count: 2, Failed: 1, Inconclusive: 1},
		},
		"the worst metric decides: Failed beats Inconclusive": {
			metrics:     []v1alpha1.Metric{newMetric("a"), newMetric("b")},
			script:      map[string][]v1alpha1.AnalysisPhase{"a": {I}, "b": {F}},
			wantPhase:   F,
			wantMessage: `Metric "b" assessed Failed due to failed (1) > failureLimit (0)`,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"a": I, "b": F},
			wantSummary: v1alpha1.RunSummary{Count: 2, Failed: 1, Inconclusive: 1},
		},
		"a failing metric terminates an indefinite one, which counts as Successful": {
			metrics:     []v1alpha1.Metric{newMetric("forever", interval("1m")), newMetric("once")},
			script:      map[string][]v1alpha1.AnalysisPhase{"forever": {S}, "once": {F}},
			wantPhase:   F,
			wantMessage: `Metric "once" assessed Failed due to failed (1) > failureLimit (0)`,
			wantMetric:  map[string]v1alpha1.AnalysisPhase{"forever": S, "once": F},
			wantSummary: v1alpha1.RunSummary{Count: 2, Successful: 1, Failed: 1},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			run := newRun(tt.metrics...)
			run.Spec.DryRun = tt.dryRun
			s := newSim(t, run, tt.script)
			s.runUntilDone()
			st := s.run.Status
			if st.Phase != tt.wantPhase || st.Message != tt.wantMessage {
				t.Errorf("run = %s %q, want %s %q", st.Phase, st.Message, tt.wantPhase, tt.wantMessage)
			}
			for name, want := range tt.wantMetric {
				if r := st.MetricResultByName(name); r == nil || r.Phase != want {
					t.Errorf("metric %s = %+v, want %s", name, r, want)
				}
			}
			if st.RunSummary != tt.wantSummary {
				t.Errorf("runSummary = %+v, want %+v", st.RunSummary, tt.wantSummary)
			}
			if st.DryRunSummary == nil || *st.DryRunSummary != tt.wantDry {
				t.Errorf("dryRunSummary = %+v, want %+v", st.DryRunSummary, tt.wantDry)
			}
			// The run starts at the first reconcile and completes at the last.
			if st.StartedAt == nil || !st.StartedAt.Time.Equal(t0) || st.CompletedAt == nil || !st.CompletedAt.Time.Equal(s.now) {
				t.Errorf("startedAt %v completedAt %v, want %v and %v", st.StartedAt, st.CompletedAt, t0, s.now)
			}
			for name, left := range s.script {
				if len(left) > 0 {
					t.Errorf("metric %s: %d scripted measurements not taken", name, len(left))
				}
			}
			reasons := s.reasons()
			wantLast := event.Event{
				Warning: tt.wantPhase == F || tt.wantPhase == E,
				Reason:  "AnalysisRun" + string(tt.wantPhase),
				Message: "Analysis Completed. Result: " + string(tt.wantPhase),
			}
			if last := s.events[len(s.events)-1]; last != wantLast {
				t.Errorf("events %v, want the last to be %+v", reasons, wantLast)
			}
		})
	}
}

func TestCountersAndErrorsNotCounted(t *testing.T) {
	s := newSim(t, newRun(newMetric("m", interval("1m"), count(2))), map[string][]v1alpha1.AnalysisPhase{"m": {E, S, S}})
	s.runUntilDone()
	r := s.run.Status.MetricResultByName("m")
	want := v1alpha1.MetricResult{Name: "m", Phase: S, Count: 2, Successful: 2, Error: 1, ConsecutiveSuccess: 2, Metadata: map[string]string{"k": "v"}}
	got := *r
	got.Measurements = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result = %+v\nwant %+v", got, want)
	}
	var phases []v1alpha1.AnalysisPhase
	for _, m := range r.Measurements {
		phases = append(phases, m.Phase)
	}
	if !reflect.DeepEqual(phases, []v1alpha1.AnalysisPhase{E, S, S}) {
		t.Fatalf("measurement phases %v, want [Error Successful Successful]", phases)
	}
	// E at 0s, retried 10s later (S at 10s), then the interval: 1m10s.
	for i, want := range []time.Duration{0, 10 * time.Second, 70 * time.Second} {
		if got := r.Measurements[i].StartedAt.Time; !got.Equal(at(want)) {
			t.Errorf("measurement %d at %v, want %v", i, got.Sub(t0), want)
		}
	}
}

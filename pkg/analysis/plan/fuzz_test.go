package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// FuzzPlan feeds Schedule and Compute an AnalysisRun decoded from the
// fuzzer's JSON (status included: users can write it), a time, and the
// phases the providers report, for a few reconciles in a row. Neither may
// panic, and from a well-formed status the plan keeps it well formed:
// valid phases, no negative counter, no negative requeue or GC limit, a
// completed run keeps its phase, and only completed runs are deleted.
//
// The seeds are in testdata/fuzz/FuzzPlan. Run it with
//
//	go test ./pkg/analysis/plan -run '^$' -fuzz FuzzPlan -parallel 1
func FuzzPlan(f *testing.F) {
	f.Fuzz(func(t *testing.T, runJSON []byte, nowOffset int64, phases []byte) {
		run := &v1alpha1.AnalysisRun{}
		if err := json.Unmarshal(runJSON, run); err != nil {
			return
		}
		// Any time within about 30 years of t0.
		now := t0.Add(time.Duration(nowOffset%(1<<30)) * time.Second)
		wellFormed := checkStatus(run.Status) == nil
		for round := 0; round < 3; round++ {
			st := State{Run: run, Now: now}
			sched := Schedule(st)
			p := Compute(st, sched, fuzzOutcomes(sched, phases, round, now))
			if wellFormed {
				if err := checkPlan(run, sched, p); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			run = run.DeepCopy()
			run.Status = p.Status
			if p.Delete || p.RequeueAfter <= 0 {
				return
			}
			now = now.Add(p.RequeueAfter)
		}
	})
}

var fuzzPhases = []v1alpha1.AnalysisPhase{
	v1alpha1.AnalysisPhaseRunning, v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed,
	v1alpha1.AnalysisPhaseInconclusive, v1alpha1.AnalysisPhaseError,
}

// fuzzOutcomes has every task's provider report a phase picked by the
// fuzzer's bytes, as a provider would stamp it.
func fuzzOutcomes(sched Scheduled, phases []byte, round int, now time.Time) Measured {
	m := Measured{Now: now}
	for i, task := range sched.Tasks {
		var b byte
		if len(phases) > 0 {
			b = phases[(round*len(sched.Tasks)+i)%len(phases)]
		}
		meas := v1alpha1.Measurement{StartedAt: Stamp(now)}
		if task.InFlight != nil {
			meas = *task.InFlight
		}
		meas.Phase = fuzzPhases[int(b)%len(fuzzPhases)]
		meas.Value = fmt.Sprint(b)
		if meas.Phase.Completed() {
			meas.FinishedAt, meas.ResumeAt = Stamp(now), nil
		} else {
			meas.ResumeAt = Stamp(now.Add(time.Duration(b) * time.Second))
		}
		m.Outcomes = append(m.Outcomes, Outcome{Task: i, Measurement: meas})
	}
	return m
}

func validPhase(p v1alpha1.AnalysisPhase) bool {
	return p == "" || p == v1alpha1.AnalysisPhasePending || slices.Contains(fuzzPhases, p)
}

// checkStatus reports the first phase that is not one of the API's or
// counter that is negative.
func checkStatus(s v1alpha1.AnalysisRunStatus) error {
	if !validPhase(s.Phase) {
		return fmt.Errorf("run phase %q", s.Phase)
	}
	for _, r := range s.MetricResults {
		if !validPhase(r.Phase) {
			return fmt.Errorf("metric %s: phase %q", r.Name, r.Phase)
		}
		for _, n := range []int32{r.Count, r.Successful, r.Failed, r.Inconclusive, r.Error, r.ConsecutiveError, r.ConsecutiveSuccess} {
			if n < 0 {
				return fmt.Errorf("metric %s: negative counter in %+v", r.Name, r)
			}
		}
		for _, m := range r.Measurements {
			if !validPhase(m.Phase) {
				return fmt.Errorf("metric %s: measurement phase %q", r.Name, m.Phase)
			}
		}
	}
	return nil
}

func checkPlan(run *v1alpha1.AnalysisRun, sched Scheduled, p Plan) error {
	if err := checkStatus(p.Status); err != nil {
		return err
	}
	if p.Status.Phase == "" {
		return fmt.Errorf("no run phase after a reconcile")
	}
	if run.Status.Phase.Completed() && p.Status.Phase != run.Status.Phase {
		return fmt.Errorf("completed run went from %s to %s", run.Status.Phase, p.Status.Phase)
	}
	if p.Delete && !p.Status.Phase.Completed() {
		return fmt.Errorf("a %s run is deleted", p.Status.Phase)
	}
	if p.RequeueAfter < 0 {
		return fmt.Errorf("requeue after %v", p.RequeueAfter)
	}
	for _, c := range p.Collect {
		if c.Limit < 0 {
			return fmt.Errorf("garbage collection of %s keeps %d", c.Metric.Name, c.Limit)
		}
	}
	for _, task := range sched.Tasks {
		if task.Action != ActionRun && task.InFlight == nil {
			return fmt.Errorf("%s task for %s without its in-flight measurement", task.Action, task.Metric.Name)
		}
	}
	return nil
}

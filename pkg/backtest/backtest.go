// Package backtest replays an analysis over history: for each start time it
// runs Serin's own analysis planner (pkg/analysis/plan: the schedule of
// interval, count and initialDelay, failureLimit, inconclusiveLimit,
// consecutiveErrorLimit, ...) against measurements taken as of the time
// each would have been taken, and reports the verdict each run would have
// reached and the values that decided it. Measurements come from a
// Measurer; Prometheus provides one (see PrometheusMeasurer). Time is
// injected, nothing here reads a clock.
package backtest

import (
	"context"
	"fmt"
	"time"

	analysisplan "github.com/serin-dev/serin/pkg/analysis/plan"
	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
)

// Measurer takes one measurement of a metric (arguments substituted) as it
// would have been at time at.
type Measurer func(ctx context.Context, m v1alpha1.Metric, at time.Time) v1alpha1.Measurement

// Input is one backtest.
type Input struct {
	// Templates are the analysis templates, as a Rollout would reference
	// them; Args their argument values.
	Templates templates.Set
	Args      []v1alpha1.Argument
	// From, To and Step give the start times: From, From+Step, ... up to To.
	From, To time.Time
	Step     time.Duration
	// Now is the present: a run is cut where its next measurement would be
	// in the future.
	Now     time.Time
	Measure Measurer
}

// maxStarts bounds the start times of one backtest.
const maxStarts = 10000

// Run backtests the templates. Bad input (no step, a range the wrong way
// round, templates that do not merge, a metric of a provider that cannot
// be replayed) is an error before anything is measured.
func Run(ctx context.Context, in Input) (Report, error) {
	if in.Step <= 0 {
		return Report{}, fmt.Errorf("--step must be positive, got %s", in.Step)
	}
	if in.To.Before(in.From) {
		return Report{}, fmt.Errorf("--to (%s) is before --from (%s)", in.To.Format(time.RFC3339), in.From.Format(time.RFC3339))
	}
	if n := in.To.Sub(in.From) / in.Step; n >= maxStarts {
		return Report{}, fmt.Errorf("%d start times: at most %d; use a larger --step", n+1, maxStarts)
	}
	proto, err := templates.NewRun(in.Templates, templates.RunOptions{Name: "backtest", Args: in.Args})
	if err != nil {
		return Report{}, err
	}
	if err := Supported(proto.Spec.Metrics); err != nil {
		return Report{}, err
	}
	r := Report{From: in.From, To: in.To, Step: in.Step}
	for at := in.From; !at.After(in.To); at = at.Add(in.Step) {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		r.Starts = append(r.Starts, replay(ctx, in, proto.DeepCopy(), at))
	}
	r.summarise()
	return r, nil
}

// replay runs one AnalysisRun that started at start, reconcile after
// reconcile, with the clock jumping to each requeue.
func replay(ctx context.Context, in Input, run *v1alpha1.AnalysisRun, start time.Time) Start {
	now := start
	run.CreationTimestamp = *analysisplan.Stamp(start)
	limit := start.Add(in.Step) // a run that measures until stopped is cut at the next start
	for i := 0; i < 10000; i++ {
		st := analysisplan.State{Run: run, Now: now}
		sched := analysisplan.Schedule(st)
		measured := analysisplan.Measured{Now: now}
		for j, task := range sched.Tasks {
			measured.Outcomes = append(measured.Outcomes, take(ctx, in, run, task, j, now))
		}
		p := analysisplan.Compute(st, sched, measured)
		run.Status = p.Status
		if run.Status.Phase.Completed() || p.RequeueAfter <= 0 {
			break
		}
		next := now.Add(p.RequeueAfter)
		if next.After(in.Now) || !next.Before(limit) && !hasCount(run) {
			break
		}
		now = next
	}
	return startOf(start, run)
}

// take measures one task as of now, stamped the way the reconciler does.
func take(ctx context.Context, in Input, run *v1alpha1.AnalysisRun, task analysisplan.Task, index int, now time.Time) analysisplan.Outcome {
	m, err := metric.ResolveArgs(task.Metric, run.Spec.Args)
	var meas v1alpha1.Measurement
	if err != nil {
		meas = metric.MarkError(meas, err)
	} else {
		meas = in.Measure(ctx, m, now)
	}
	meas.StartedAt = analysisplan.Stamp(now)
	if meas.Phase.Completed() && meas.FinishedAt == nil {
		meas.FinishedAt = analysisplan.Stamp(now)
	}
	return analysisplan.Outcome{Task: index, Measurement: metric.Bound(meas)}
}

// hasCount tells whether every metric of the run has a count, so that the
// run ends by itself.
func hasCount(run *v1alpha1.AnalysisRun) bool {
	for _, m := range run.Spec.Metrics {
		if m.Count == nil && m.Interval != "" {
			return false
		}
	}
	return true
}

// UnsupportedError is a metric whose provider cannot answer as of a past
// time.
type UnsupportedError struct {
	Metric, Provider, Why string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("metric %q: not supported for provider %s: %s", e.Metric, e.Provider, e.Why)
}

// Supported refuses, with an *UnsupportedError, metrics whose provider
// cannot answer as of a past time.
func Supported(metrics []v1alpha1.Metric) error {
	for _, m := range metrics {
		p := m.Provider
		switch {
		case p.Prometheus != nil:
			continue
		case p.Web != nil:
			return &UnsupportedError{m.Name, "web", "a web metric calls a URL that answers for now, with no time range to ask for the past"}
		case p.Datadog != nil:
			return &UnsupportedError{m.Name, "datadog", "its API takes a time range, but Serin's Datadog provider always asks for the last interval"}
		}
		return &UnsupportedError{m.Name, "other than prometheus", "only Prometheus metrics can be backtested"}
	}
	return nil
}

package plan

import (
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
)

// Defaults that Argo Rollouts applies to every metric.
const (
	// DefaultMeasurementHistoryLimit is how many measurements of a metric the
	// status keeps when no measurementRetention rule matches it.
	DefaultMeasurementHistoryLimit = 10
	// DefaultErrorRetryInterval is the wait after a measurement error before
	// the next attempt, whatever the metric's interval.
	DefaultErrorRetryInterval = 10 * time.Second
	// DefaultConsecutiveErrorLimit is the consecutiveErrorLimit of a metric
	// that sets none: the fifth error in a row ends the metric in Error.
	DefaultConsecutiveErrorLimit = 4
)

// Messages and event reasons of the run.
const (
	// MessageRunTerminated is the run's message after spec.terminate.
	MessageRunTerminated = "Run Terminated"
	// MessageMetricTerminated replaces the message of an in-flight
	// measurement that was stopped because the run is terminating.
	MessageMetricTerminated = "Metric Terminated"
	// prefixResolveArgs starts the message of a run whose arguments cannot
	// be substituted into its metrics.
	prefixResolveArgs = "Unable to resolve metric arguments: "
	// prefixInvalidSpec starts the message of a run whose metrics are invalid.
	prefixInvalidSpec = "Analysis spec invalid: "
)

// State is what one reconcile of an AnalysisRun looks at.
type State struct {
	// Run as the informer last saw it. It is never modified.
	Run *v1alpha1.AnalysisRun
	// Now is the time the decision is made at.
	Now time.Time
}

// Action is what to do with a metric in this reconcile.
type Action string

// The actions of a Task.
const (
	// ActionRun starts a new measurement.
	ActionRun Action = "Run"
	// ActionResume checks on the metric's in-flight measurement.
	ActionResume Action = "Resume"
	// ActionTerminate stops the metric's in-flight measurement because the
	// run is terminating.
	ActionTerminate Action = "Terminate"
)

// Task is one measurement to take, resume or stop now.
type Task struct {
	// Metric is the metric as written in the run's spec, with its
	// {{args.x}} placeholders: the reconciler substitutes the arguments,
	// secrets included, right before measuring.
	Metric v1alpha1.Metric
	// Action says what to do.
	Action Action
	// InFlight is a copy of the metric's unfinished measurement, for Resume
	// and Terminate.
	InFlight *v1alpha1.Measurement
}

// Scheduled is the outcome of the first pass: what to measure now.
type Scheduled struct {
	// Completed is set for a run that already finished: nothing is measured
	// and only its time-to-live matters.
	Completed bool
	// Invalid, when set, is the message of a run that cannot be measured
	// (unresolvable arguments, invalid metrics); it ends in Error.
	Invalid string
	// Metrics are the run's metrics with the arguments substituted (secret
	// arguments stand in as a placeholder), in spec order.
	Metrics []v1alpha1.Metric
	// DryRun names the metrics whose outcome never changes the run's phase.
	DryRun map[string]bool
	// Retention is the number of measurements kept per metric, where a
	// measurementRetention rule sets one.
	Retention map[string]int
	// Terminating is set when the run is being stopped: by spec.terminate or
	// because a metric that is not a dry run has ended Failed, Error or
	// Inconclusive.
	Terminating bool
	// Tasks are the measurements due now.
	Tasks []Task
}

// Outcome is what taking one Task produced.
type Outcome struct {
	// Task is the index of the task in Scheduled.Tasks.
	Task int
	// Measurement is the provider's measurement, with startedAt and, once
	// complete, finishedAt stamped, and secrets redacted.
	Measurement v1alpha1.Measurement
	// Metadata is the provider's metadata for the metric (such as the
	// resolved query), secrets redacted; recorded when the metric's first
	// measurement is taken.
	Metadata map[string]string
}

// Measured is what the reconciler brings back from taking the tasks.
type Measured struct {
	// Outcomes, one per task that was taken.
	Outcomes []Outcome
	// ArgsError, when set, is why the run's arguments could not be resolved
	// at measurement time (e.g. a missing Secret key); the run ends in Error.
	ArgsError string
	// Now is when the measurements were done, for the timestamps and the
	// requeue the plan derives.
	Now time.Time
}

// Plan is what one reconcile writes.
type Plan struct {
	// Status is the run's next status; the reconciler patches what differs.
	Status v1alpha1.AnalysisRunStatus
	// Events to record on the run once the status is written.
	Events []event.Event
	// Collect asks providers to clean up after measurements dropped from the
	// status (e.g. delete old Jobs), keeping the newest Limit.
	Collect []Collect
	// Delete removes the run: its time-to-live after completion has passed.
	Delete bool
	// RequeueAfter is when the run next needs a reconcile (0: never, unless
	// it changes).
	RequeueAfter time.Duration
}

// Collect is one provider garbage collection.
type Collect struct {
	Metric v1alpha1.Metric
	Limit  int
}

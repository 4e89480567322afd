// Package plan decides what one reconcile of an AnalysisRun does. It is pure:
// the run and the current time go in; which measurements are due, and, once
// the reconciler has taken them, the run's next status, its events, the
// measurements to garbage collect and when to look again come out. It reads
// no clock, performs no I/O and imports no client library.
//
// A reconcile is two passes around one I/O step:
//
//	sched := plan.Schedule(state)                    // which metrics to measure, resume or terminate
//	outcomes := <take those measurements>            // providers, in the reconciler
//	p := plan.Compute(state, sched, outcomes)        // counters, phases, message, GC, requeue
//
// The semantics are Argo Rollouts': measurements are spaced by interval from
// the previous measurement's finishedAt (10s after an error), errors are not
// counted in count, a metric is assessed against failureLimit,
// inconclusiveLimit, consecutiveErrorLimit and consecutiveSuccessLimit, and the
// run takes the worst phase of its non-dry-run metrics.
package plan

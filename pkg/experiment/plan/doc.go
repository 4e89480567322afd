// Package plan decides what one reconcile of an Experiment does. It is pure:
// the Experiment, the ReplicaSets, Services and AnalysisRuns it owns, the
// analysis templates it names and the current time go in; the objects to
// create, scale, delete or terminate, the Experiment's next status, its
// events and when to look again come out. It reads no clock, performs no I/O
// and imports no client library.
//
// A reconcile computes a plan, carries out its writes and, only when a write
// failed for good (the API server refused it, or a name is held by an object
// that is not the Experiment's), computes it again with that Outcome, so that
// the status reports the failure:
//
//	p := plan.Compute(state)
//	outcome := <apply p's writes>
//	if !outcome.Empty() { state.Outcome = outcome; p = plan.Compute(state) }
//	<patch p.Status, record p.Events>
//
// The semantics are Argo Rollouts': each template gets a ReplicaSet named
// <experiment>-<template>, created with no replicas and scaled up on the next
// reconcile; the experiment is Pending until every template is available,
// Running for spec.duration (or until it is terminated), and then scales its
// ReplicaSets down after scaleDownDelaySeconds; its AnalysisRuns start once
// the templates are available, and a failed, errored or inconclusive run ends
// the experiment with that phase.
package plan

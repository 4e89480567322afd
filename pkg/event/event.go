// Package event holds the Kubernetes events a plan asks its reconciler to
// record. It imports nothing, so the pure plan packages can return events
// without depending on client-go; pkg/controller records them
// (controller.RecordEvents).
package event

// Event is a Kubernetes event about the reconciled object.
type Event struct {
	// Warning records the event as type Warning instead of Normal.
	Warning bool
	Reason  string
	Message string
}

// Package plan decides what one reconcile of a Rollout should do. It is pure:
// the observed state (the Rollout, its ReplicaSets, the Services it names, the
// current time) goes in, and the intended actions and the next status come
// out. It performs no I/O, reads no clock and imports no client library, so
// every decision the controller makes can be tested as a table of sentences.
package plan

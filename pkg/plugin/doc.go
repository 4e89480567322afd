// Package plugin is the root of Serin's support for Argo Rollouts plugins:
// external binaries, named in the argo-rollouts-config ConfigMap, that
// implement a traffic router, a metric provider or a canary step and talk to
// the controller over hashicorp/go-plugin's net/rpc protocol.
//
// The work is split by concern:
//
//   - config reads the ConfigMap into plugin items.
//   - install puts each item's binary into the plugin directory and
//     verifies its sha256.
//   - wire holds the types, gob names and handshakes that cross the
//     process boundary, exactly as upstream plugins expect them.
//   - host starts one process per plugin, on first use, and makes every call
//     under a deadline.
//   - metricplugin, and the typed clients of wire (wire.MetricClient,
//     wire.RouterClient, wire.StepClient), are what controllers use.
//
// Only cmd/serin-controller wires these together.
package plugin

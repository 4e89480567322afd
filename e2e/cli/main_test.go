// Package cli holds end-to-end tests of the kubectl serin plugin
// (bin/kubectl-serin, built by make build) against a real local cluster,
// Serin's controller and Prometheus.
package cli

import (
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

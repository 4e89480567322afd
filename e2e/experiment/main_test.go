// Package experiment holds end-to-end tests of standalone Experiments: their
// ReplicaSets and Services on a real (kwok-run) cluster, analyses measured
// against a real Prometheus, and the plugin's terminate and retry verbs.
package experiment

import (
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

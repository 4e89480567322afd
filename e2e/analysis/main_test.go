// Package analysis holds end-to-end tests of rollouts gated on analysis,
// measured against a real Prometheus and real (kwok-run) Jobs.
package analysis

import (
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

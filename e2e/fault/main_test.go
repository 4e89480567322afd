// Package fault runs rollouts through faults: the controller killed right
// after each of its API writes, a leader killed while a second replica
// waits, a user's burst of writes racing the controller's, and a Prometheus
// that errors, hangs, refuses connections or answers with no usable number.
// Each controller a test starts talks to the API server through its own
// proxy (framework.APIProxy), which logs its writes and kills it on cue.
package fault

import (
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

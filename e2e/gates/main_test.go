// Package gates checks that no ordinary edit, abort or malformed object lets
// a Rollout skip a step, a pause or an analysis, or stops Serin from
// reconciling other Rollouts.
package gates

import (
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

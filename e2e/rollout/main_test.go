// Package rollout holds the end-to-end tests of the Rollout controller.
package rollout

import (
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

// Package foundation checks, on a real API server, what the API foundation
// promises: Serin's CRDs and install manifests apply, and every manifest
// written for Argo Rollouts is accepted and stored without losing a field.
package foundation

import (
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

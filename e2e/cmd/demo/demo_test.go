package main

import (
	"os"
	"testing"
)

// TestDemoTellsItsStory runs `make demo` end to end (with -exit): every
// chapter waits for the cluster to show what the narration says, so the
// story completing means the first deploy, the analysis-gated promotion and
// the automatic abort all happened as told.
func TestDemoTellsItsStory(t *testing.T) {
	if os.Getenv("SERIN_E2E") != "1" {
		t.Skip("skipping the demo: set SERIN_E2E=1 (make e2e does) to run it on a local cluster")
	}
	if err := run(true); err != nil {
		t.Fatal(err)
	}
}

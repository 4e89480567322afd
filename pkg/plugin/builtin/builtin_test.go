package builtin

import (
	"testing"

	"github.com/serin-dev/serin/pkg/plugin/builtin/approval"
)

func TestBuiltInNamesResolveOnlyUnderSerinsPrefix(t *testing.T) {
	s := Default()
	if _, ok := s.Step(approval.Name); !ok {
		t.Fatalf("%s is not built in", approval.Name)
	}
	s.Steps["example.com/approval"] = approval.Plugin{}
	if _, ok := s.Step("example.com/approval"); ok {
		t.Fatal("a name outside serin.dev/ resolved in-process; it must go to the configured binary")
	}
	if _, ok := s.Router("serin.dev/none"); ok {
		t.Fatal("unknown router resolved")
	}
}

package pluginrouter

import (
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

func plan(t *testing.T, d trafficrouting.Desired) string {
	t.Helper()
	w, err := New("example.com/r").Plan(&v1alpha1.Rollout{}, nil, d)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, write := range w.InOrder(nil) {
		if write.Op != trafficrouting.PluginCall || write.Call.Plugin != "example.com/r" {
			t.Fatalf("plugin router planned %v", write)
		}
		out = append(out, strings.TrimPrefix(write.Call.String(), "example.com/r."))
	}
	return strings.Join(out, " ")
}

func TestCallsComeInArgoRolloutsOrder(t *testing.T) {
	header := &v1alpha1.SetHeaderRoute{Name: "h"}
	mirror := &v1alpha1.SetMirrorRoute{Name: "m"}
	for _, tc := range []struct {
		name string
		d    trafficrouting.Desired
		want string
	}{
		{"a step's weight", trafficrouting.Desired{CanaryWeight: 20, CanaryHash: "new", StableHash: "old"},
			`UpdateHash(canary "new", stable "old") SetWeight(20)`},
		{"the current step's routes first", trafficrouting.Desired{CanaryWeight: 20, CanaryHash: "new", StableHash: "old", StepHeaderRoute: header, StepMirrorRoute: mirror},
			`SetHeaderRoute SetMirrorRoute UpdateHash(canary "new", stable "old") SetWeight(20)`},
		{"routes removed on promotion, abort or an unavailable canary", trafficrouting.Desired{RemoveRoutes: true, StableHash: "old"},
			`RemoveManagedRoutes UpdateHash(canary "", stable "old") SetWeight(0)`},
		{"weight back to zero before the hash moves to an empty canary", trafficrouting.Desired{RemoveRoutes: true, ResetWeightFirst: true, CanaryHash: "v3", StableHash: "old"},
			`RemoveManagedRoutes SetWeight(0) UpdateHash(canary "v3", stable "old") SetWeight(0)`},
		{"held while the stable cannot take the traffic", trafficrouting.Desired{RemoveRoutes: true, Hold: true, CanaryWeight: 0},
			`RemoveManagedRoutes`},
		{"held, no routes to remove", trafficrouting.Desired{Hold: true, CanaryWeight: 50}, ``},
	} {
		if got := plan(t, tc.d); got != tc.want {
			t.Errorf("%s: calls %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSetWeightCarriesTheExperimentDestinations(t *testing.T) {
	extra := []v1alpha1.WeightDestination{{ServiceName: "exp", PodTemplateHash: "x", Weight: 5}}
	w, _ := New("p").Plan(nil, nil, trafficrouting.Desired{CanaryWeight: 10, Additional: extra})
	for _, c := range w.Calls {
		if len(c.Additional) != 1 || c.Additional[0] != extra[0] {
			t.Fatalf("%s carries %v", c, c.Additional)
		}
	}
}

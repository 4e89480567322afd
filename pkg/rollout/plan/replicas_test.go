package plan

import (
	"os/exec"
	"strings"
	"testing"
)

func TestApproximateSplit(t *testing.T) {
	for name, tc := range map[string]struct {
		replicas, weight, surge int32
		want                    canaryCounts
	}{
		"20% of 5 is one canary pod":                     {5, 20, 1, canaryCounts{1, 4}},
		"60% of 5 is three canary pods":                  {5, 60, 1, canaryCounts{3, 2}},
		"a tie with surge takes one extra pod":           {5, 50, 1, canaryCounts{3, 3}},
		"a small weight never rounds the canary to zero": {10, 1, 0, canaryCounts{1, 9}},
		"100% moves every pod":                           {4, 100, 1, canaryCounts{4, 0}},
		"0% keeps every pod stable":                      {4, 0, 1, canaryCounts{0, 4}},
		"no replicas, no pods":                           {0, 50, 1, canaryCounts{0, 0}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := approximateSplit(tc.replicas, tc.weight, 100, tc.surge); got != tc.want {
				t.Errorf("approximateSplit(%d, %d%%, surge %d) = %+v, want %+v", tc.replicas, tc.weight, tc.surge, got, tc.want)
			}
		})
	}
}

// TestPlanImportsNoClientLibrary keeps the planner pure: it must not be able
// to reach the API server. (net/http itself comes in through apimachinery.)
func TestPlanImportsNoClientLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"k8s.io/client-go", "istio.io/client-go", "github.com/prometheus/client_golang"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("the plan package depends on %s", dep)
			}
		}
	}
}

package simulate

import (
	"strings"
	"testing"
)

// A spec the planner refuses stops the simulation at once with the
// InvalidSpec message the controller would write: a weight over 100
// (plan.Validate), a Service the cluster does not have and an analysis
// template that does not exist (the condition the plan writes).
func TestInvalidSpecIsReportedBeforeAnything(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(in *Input)
		want string
	}{
		"weight over 100": {func(in *Input) {
			w := int32(150)
			in.Rollout.Spec.Strategy.Canary.Steps[0].SetWeight = &w
		}, "spec.strategy.canary.steps[0].setWeight"},
		"missing service":  {func(in *Input) { delete(in.Services, "checkout-canary") }, `service "checkout-canary" not found`},
		"missing template": {func(in *Input) { delete(in.AnalysisTemplates, "success-rate") }, "success-rate"},
	} {
		t.Run(name, func(t *testing.T) {
			in := inputFor(t, "../../examples/canary-istio-analysis.yaml", 0)
			tc.edit(&in)
			r := Run(in)
			if r.Completed || !strings.HasPrefix(r.End, "InvalidSpec") {
				t.Fatalf("end = %q, want InvalidSpec", r.End)
			}
			if len(r.InvalidSpec) == 0 || !strings.Contains(strings.Join(r.InvalidSpec, "\n"), tc.want) {
				t.Fatalf("InvalidSpec = %q, want one naming %q", r.InvalidSpec, tc.want)
			}
		})
	}
}

// Without any router object, the weights shown are those the plan
// decides for each step, and a note says the routers were not shown.
func TestWithoutRouterObjectsTheStepWeightsShow(t *testing.T) {
	in := inputFor(t, "../../examples/canary-istio-analysis.yaml", 0)
	in.Routers, in.RouterObjects = nil, nil
	r := Run(in)
	if !r.Completed {
		t.Fatalf("not completed: %s", r.End)
	}
	var weights []int32
	for _, row := range r.Rows {
		if len(row.Routers) > 0 {
			t.Fatalf("row %+v shows routers", row)
		}
		if row.CanaryWeight != nil && (len(weights) == 0 || weights[len(weights)-1] != *row.CanaryWeight) {
			weights = append(weights, *row.CanaryWeight)
		}
	}
	if got := fmtWeights(weights); got != "20 50 100" {
		t.Fatalf("weights = %s, want 20 50 100", got)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "no traffic-routing objects given") {
		t.Fatalf("notes = %q", r.Notes)
	}
}

func fmtWeights(ws []int32) string {
	var out []string
	for _, w := range ws {
		out = append(out, itoa(w))
	}
	return strings.Join(out, " ")
}

package simulate

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/progress"
	"github.com/serin-dev/serin/pkg/trafficrouting/routers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// inputFor reads a manifest file into a simulation input, with the routers
// the controller builds with its default flags.
func inputFor(t *testing.T, path string, podReady time.Duration) Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifests(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rollouts) != 1 {
		t.Fatalf("%s has %d Rollouts, want 1", path, len(m.Rollouts))
	}
	ro := m.Rollouts[0]
	ro.Namespace = "default"
	rt := routers.ForRollout(ro)
	return Input{Rollout: ro, Services: m.Services, AnalysisTemplates: m.AnalysisTemplates, Routers: rt,
		RouterObjects: m.RouterObjects(ro, rt), Start: start, PodReady: podReady, AsUpdate: true}
}

// Every Rollout in examples/ is simulated to full promotion; its least
// duration with pods ready at once is the ETA package progress computes
// from the spec (the estimate the metrics and explain use); it visits every
// canary step in order; each router object carries the weight the plan
// decided; and the rendered plan matches the golden file.
func TestEveryExampleRollsOutAsThePlannerDecides(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.yaml")
	simulated := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		data, _ := os.ReadFile(f)
		if !strings.Contains(string(data), "kind: Rollout") {
			continue
		}
		simulated++
		t.Run(name, func(t *testing.T) {
			in := inputFor(t, f, 0)
			r := Run(in)
			if !r.Completed || len(r.InvalidSpec) > 0 {
				t.Fatalf("not completed: %s %v", r.End, r.InvalidSpec)
			}
			eta := progress.Of(in.Rollout, start, analysisDuration(in))
			if r.MinimumDuration.Round(time.Second) != eta.Remaining {
				t.Errorf("simulated %s, ETA from the spec %s", r.MinimumDuration, eta.Remaining)
			}
			checkStepsInOrder(t, in.Rollout, r)
			checkRouterWeights(t, r)
			checkGolden(t, name, Run(inputFor(t, f, 10*time.Second)))
		})
	}
	if simulated < 4 {
		t.Fatalf("simulated %d examples, want at least 4", simulated)
	}
}

func analysisDuration(in Input) progress.AnalysisDuration {
	return func(a *v1alpha1.RolloutAnalysis) (time.Duration, bool) {
		set, err := templates.Resolve("default", a.Templates, templateMaps{namespaced: in.AnalysisTemplates})
		if err != nil {
			return 0, false
		}
		spec, err := templates.Flatten(set)
		if err != nil {
			return 0, false
		}
		return progress.MetricsDuration(spec.Metrics)
	}
}

func checkStepsInOrder(t *testing.T, ro *v1alpha1.Rollout, r Report) {
	t.Helper()
	if ro.Spec.Strategy.Canary == nil {
		return
	}
	var seen []string
	for _, row := range r.Rows {
		if n := len(seen); n == 0 || seen[n-1] != row.Step {
			seen = append(seen, row.Step)
		}
	}
	steps := ro.Spec.Strategy.Canary.Steps
	want := []string{}
	for i, st := range steps {
		want = append(want, stepLabelAt(i, len(steps), st))
	}
	got := strings.Join(seen, " | ")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("steps visited %q miss %q", got, w)
		}
	}
}

func stepLabelAt(i, n int, st v1alpha1.CanaryStep) string {
	ro := &v1alpha1.Rollout{Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: make([]v1alpha1.CanaryStep, n)}}}}
	ro.Spec.Strategy.Canary.Steps[i] = st
	idx := int32(i)
	ro.Status.CurrentStepIndex = &idx
	return stepLabel(ro)
}

// checkRouterWeights: where a router object names the canary, its weight
// is the one status.canary.weights records.
func checkRouterWeights(t *testing.T, r Report) {
	t.Helper()
	for _, row := range r.Rows {
		for _, rw := range row.Routers {
			for _, w := range rw.Weights {
				name, value, _ := strings.Cut(w, "=")
				if strings.Contains(name, "canary") && row.CanaryWeight != nil && value != itoa(*row.CanaryWeight) {
					t.Errorf("at %s %s carries %s, the plan decided %d", row.At, rw.Object, w, *row.CanaryWeight)
				}
			}
		}
	}
}

func itoa(v int32) string { return strconv.Itoa(int(v)) }

func checkGolden(t *testing.T, name string, r Report) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(want) {
		t.Errorf("plan of %s differs from %s:\n%s", name, path, buf.String())
	}
}

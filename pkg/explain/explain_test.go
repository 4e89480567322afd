package explain

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The explanation of each recorded rollout matches its golden file.
func TestGoldenExplanations(t *testing.T) {
	for name, in := range map[string]Input{"passed": passed(), "aborted": aborted(), "inconclusive": inconclusive()} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(&buf, Build(in)); err != nil {
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
				t.Errorf("explanation differs from %s:\n%s", path, buf.String())
			}
		})
	}
}

// The decision names the run, the metric and the exact measurement that
// stopped the release: the failed 0.8 for the abort, the inconclusive 0.97
// for the pause; a healthy release has none, and an abort without a failed
// analysis is put down to a person.
func TestDecisionNamesTheDecidingMeasurement(t *testing.T) {
	for name, tc := range map[string]struct {
		in                Input
		kind, value, verd string
	}{
		"aborted":      {aborted(), "abort", "[0.8]", "Failed"},
		"inconclusive": {inconclusive(), "pause", "[0.97]", "Inconclusive"},
	} {
		d := Build(tc.in).Decision
		if d == nil || d.Kind != tc.kind || d.Run != "guestbook-v3hash-2" || d.Metric != "success-rate" ||
			d.Measurement == nil || d.Measurement.Value != tc.value || d.Measurement.Verdict != tc.verd {
			t.Errorf("%s: decision = %+v", name, d)
		}
	}
	if d := Build(passed()).Decision; d != nil {
		t.Errorf("passed: decision = %+v, want none", d)
	}
	manual := aborted()
	manual.AnalysisRuns = manual.AnalysisRuns[:1]
	if d := Build(manual).Decision; d == nil || d.Kind != "abort" || d.Run != "" {
		t.Errorf("manual abort: decision = %+v, want one by a person", d)
	}
}

// An Experiment is listed under the release whose pod template hash it
// carries, and only there.
func TestExperimentsBelongToTheirRelease(t *testing.T) {
	in := aborted()
	ex := &v1alpha1.Experiment{ObjectMeta: metav1.ObjectMeta{Name: "guestbook-v3hash-3-1",
		Labels: map[string]string{v1alpha1.LabelPodTemplateHash: "v3hash"}}}
	ex.Status.Phase = v1alpha1.AnalysisPhaseFailed
	in.Experiments = []*v1alpha1.Experiment{ex}
	r := Build(in)
	if got := r.Releases[0].Experiments; len(got) != 1 || got[0].Name != ex.Name || got[0].Phase != "Failed" {
		t.Fatalf("current release's experiments = %+v", got)
	}
	if got := r.Releases[1].Experiments; len(got) != 0 {
		t.Fatalf("previous release's experiments = %+v, want none", got)
	}
}

// As the controller writes it, an aborted Rollout's currentStepIndex is
// back at 0, and the event recorder folds similar events into one whose
// message starts with "(combined from similar events): ". The step the
// release was aborted at still comes from its completed steps and its
// failed step analysis.
func TestAbortedStepFromEventsAndTheFailedAnalysis(t *testing.T) {
	in := aborted()
	zero := int32(0)
	in.Rollout.Status.CurrentStepIndex = &zero
	for i, e := range in.Events {
		if e.Message == "Rollout step 2/5 completed (pause)" && e.LastTimestamp.Time.Equal(ts(260).Time) {
			in.Events[i].Message = "(combined from similar events): " + e.Message
		}
	}
	steps := Build(in).Releases[0].Steps
	var states []string
	for _, s := range steps {
		states = append(states, s.State)
	}
	if got := strings.Join(states, ","); got != "done,done,aborted here,pending,pending" {
		t.Fatalf("states = %s", got)
	}
	if steps[1].Ended == nil || !steps[1].Ended.Equal(ts(260).Time) {
		t.Fatalf("step 2 ended %v, want at t0+260s", steps[1].Ended)
	}
}

// With no step event left in the release's window (the API server keeps
// events an hour), the failed step analysis alone places the abort.
func TestAbortedStepFromTheFailedAnalysisAlone(t *testing.T) {
	in := aborted()
	zero := int32(0)
	in.Rollout.Status.CurrentStepIndex = &zero
	in.Events = nil
	steps := Build(in).Releases[0].Steps
	if steps[2].State != "aborted here" || steps[1].State != "done" || steps[3].State != "pending" {
		t.Fatalf("steps = %+v", steps)
	}
}

// A blue-green release has no steps; its pre-promotion analysis that
// failed decides the abort, and the next step is a retry.
func TestBlueGreenAbortedByPrePromotionAnalysis(t *testing.T) {
	in := aborted()
	in.Rollout.Spec.Strategy = v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: "active", PreviewService: "preview"}}
	in.AnalysisRuns[1].Labels[v1alpha1.LabelRolloutType] = v1alpha1.RolloutTypePrePromotion
	delete(in.AnalysisRuns[1].Labels, v1alpha1.LabelStepIndex)
	r := Build(in)
	if r.Strategy != "blueGreen" || len(r.Releases[0].Steps) != 0 || r.Releases[0].Outcome != "aborted" {
		t.Fatalf("report = %+v", r.Releases[0])
	}
	if d := r.Decision; d == nil || d.Measurement == nil || d.Measurement.Value != "[0.8]" || r.Releases[0].Analyses[0].Type != "PrePromotion" {
		t.Fatalf("decision = %+v", d)
	}
}

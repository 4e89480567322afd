package bench

import (
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestScenarioManifestsParseStrictly(t *testing.T) {
	var ro v1alpha1.Rollout
	doc := fmt.Sprintf(reactionRolloutYAML, "app-0", imageV1, reactionFirstWeight, reactionSecondWeight, reactionPauseSeconds)
	if err := yaml.UnmarshalStrict([]byte(doc), &ro); err != nil {
		t.Fatalf("reaction Rollout: %v", err)
	}
	steps := ro.Spec.Strategy.Canary.Steps
	if len(steps) != 4 || *steps[0].SetWeight != reactionFirstWeight || steps[1].Pause.Duration.String() != "3s" || *steps[2].SetWeight != reactionSecondWeight {
		t.Errorf("reaction steps = %+v", steps)
	}
	if ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualService.Name != "app-0" || *ro.Spec.Strategy.Canary.Analysis.StartingStep != 2 {
		t.Errorf("reaction routing or analysis wrong: %+v", ro.Spec.Strategy.Canary)
	}
	var tmpl v1alpha1.AnalysisTemplate
	if err := yaml.UnmarshalStrict(fmt.Appendf(nil, reactionTemplateYAML, "http://127.0.0.1:9090", reactionMetric), &tmpl); err != nil {
		t.Fatalf("reaction AnalysisTemplate: %v", err)
	}
	if q := tmpl.Spec.Metrics[0].Provider.Prometheus.Query; q != `bench_success_rate{rollout="{{args.name}}"}` {
		t.Errorf("query = %q", q)
	}
	var run v1alpha1.AnalysisRun
	if err := yaml.UnmarshalStrict(fmt.Appendf(nil, fanoutRunYAML, "run-0", fanoutCount, "http://127.0.0.1:9090"), &run); err != nil {
		t.Fatalf("fan-out AnalysisRun: %v", err)
	}
	if run.Spec.Metrics[0].Count.IntValue() != fanoutCount || string(run.Spec.Metrics[0].Interval) != "10s" {
		t.Errorf("fan-out metric = %+v", run.Spec.Metrics[0])
	}
}

func TestColdPollScrapesLessOftenForLargeFleets(t *testing.T) {
	for n, want := range map[int]time.Duration{300: 100 * time.Millisecond, 5000: 500 * time.Millisecond, 10000: time.Second, 50000: time.Second} {
		if got := coldPoll(n); got != want {
			t.Errorf("coldPoll(%d) = %s, want %s", n, got, want)
		}
	}
}

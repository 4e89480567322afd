package bench

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// clock is a settable time source for the log.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func vsWith(t *testing.T, name string, canary int64) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	doc := []byte(`
metadata: {name: ` + name + `}
spec:
  http:
  - name: primary
    route:
    - destination: {host: ` + name + `-stable}
      weight: 100
    - destination: {host: ` + name + `-canary}
      weight: 0`)
	if err := yaml.Unmarshal(doc, &u.Object); err != nil {
		t.Fatal(err)
	}
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	dests := routes[0].(map[string]any)["route"].([]any)
	dests[0].(map[string]any)["weight"] = 100 - canary
	dests[1].(map[string]any)["weight"] = canary
	if err := unstructured.SetNestedSlice(u.Object, routes, "spec", "http"); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestReactionLogMeasuresPauseEndToNextWeight(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newReactionLog(c.now)
	l.virtualService(vsWith(t, "a", 0))
	l.virtualService(vsWith(t, "a", 20))
	step := int32(1)
	start := metav1.NewTime(c.t.Add(time.Second))
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	ro.Status.CurrentStepIndex = &step
	ro.Status.PauseConditions = []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep, StartTime: start}}
	l.rollout(ro)
	c.t = start.Add(3*time.Second + 40*time.Millisecond)
	l.virtualService(vsWith(t, "a", 40))
	got, err := l.pauseToWeight([]string{"a"}, 3*time.Second)
	if err != nil || len(got) != 1 || got[0] != 40*time.Millisecond {
		t.Fatalf("pauseToWeight = %v, %v; want [40ms]", got, err)
	}
	if _, err := l.pauseToWeight([]string{"b"}, 3*time.Second); err == nil {
		t.Error("want an error for a canary whose pause was never seen")
	}
}

func TestReactionLogMeasuresFailureToWeightZero(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newReactionLog(c.now)
	l.virtualService(vsWith(t, "a", 0)) // before the release: not the abort
	l.virtualService(vsWith(t, "a", 40))
	if _, ok := l.failureToZero([]string{"a"}); ok {
		t.Fatal("no failure seen yet")
	}
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "a-1", OwnerReferences: []metav1.OwnerReference{{Name: "a"}}}}
	run.Status.MetricResults = []v1alpha1.MetricResult{{Measurements: []v1alpha1.Measurement{{Phase: v1alpha1.AnalysisPhaseSuccessful}}}}
	l.analysisRun(run)
	if _, ok := l.failureToZero([]string{"a"}); ok {
		t.Fatal("a successful measurement is no failure")
	}
	c.t = c.t.Add(time.Second)
	run.Status.MetricResults[0].Measurements = append(run.Status.MetricResults[0].Measurements, v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseFailed})
	l.analysisRun(run)
	c.t = c.t.Add(25 * time.Millisecond)
	l.analysisRun(run) // seen again: the first sighting counts
	l.virtualService(vsWith(t, "a", 0))
	got, ok := l.failureToZero([]string{"a"})
	if !ok || len(got) != 1 || got[0] != 25*time.Millisecond {
		t.Fatalf("failureToZero = %v, %v; want [25ms]", got, ok)
	}
}

func TestReactionLogTakesAWeightZeroSeenBeforeTheFailure(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newReactionLog(c.now)
	l.virtualService(vsWith(t, "a", 40))
	c.t = c.t.Add(time.Second)
	l.virtualService(vsWith(t, "a", 0))
	c.t = c.t.Add(3 * time.Millisecond)
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "a-1", OwnerReferences: []metav1.OwnerReference{{Name: "a"}}}}
	run.Status.MetricResults = []v1alpha1.MetricResult{{Measurements: []v1alpha1.Measurement{{Phase: v1alpha1.AnalysisPhaseFailed}}}}
	l.analysisRun(run)
	got, ok := l.failureToZero([]string{"a"})
	if !ok || len(got) != 1 || got[0] != -3*time.Millisecond {
		t.Fatalf("failureToZero = %v, %v; want [-3ms]", got, ok)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := percentile(ds, 50); p != 50*time.Millisecond {
		t.Errorf("p50 = %v, want 50ms", p)
	}
	if p := percentile(ds, 99); p != 99*time.Millisecond {
		t.Errorf("p99 = %v, want 99ms", p)
	}
	if p := percentile(ds[:3], 99); p != 100*time.Millisecond {
		t.Errorf("p99 of three = %v, want the largest, 100ms", p)
	}
	if p := percentile(nil, 50); p != 0 {
		t.Errorf("p50 of none = %v, want 0", p)
	}
}

func TestMeasurementLogLatenessAgainstTheInterval(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := &measurementLog{seen: map[string][]time.Time{}, now: c.now}
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "r"}}
	run.Status.MetricResults = []v1alpha1.MetricResult{{Count: 1}}
	l.record(run)
	c.t = c.t.Add(10*time.Second + 300*time.Millisecond)
	run.Status.MetricResults[0].Count = 2
	l.record(run)
	l.record(run) // the same status again adds nothing
	c.t = c.t.Add(10*time.Second + 50*time.Millisecond)
	run.Status.MetricResults[0].Count = 3
	l.record(run)
	got := l.lateness(10 * time.Second)
	if len(got) != 2 || percentile(got, 99) != 300*time.Millisecond || percentile(got, 50) != 50*time.Millisecond {
		t.Fatalf("lateness = %v, want [300ms 50ms]", got)
	}
}

package progress

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func weight(w int32) v1alpha1.CanaryStep { return v1alpha1.CanaryStep{SetWeight: &w} }

func pause(d string) v1alpha1.CanaryStep {
	if d == "" {
		return v1alpha1.CanaryStep{Pause: &v1alpha1.RolloutPause{}}
	}
	v := intstr.FromString(d)
	return v1alpha1.CanaryStep{Pause: &v1alpha1.RolloutPause{Duration: &v}}
}

func canaryAt(step int32, steps ...v1alpha1.CanaryStep) *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: steps}}}}
	ro.Status.CurrentStepIndex = &step
	ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
	return ro
}

func TestCanaryETACountsWhatIsLeftOfTheCurrentPauseAndLaterSteps(t *testing.T) {
	ro := canaryAt(1, weight(20), pause("10m"), weight(50), pause("5m"))
	ro.Status.PauseConditions = []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonCanaryPauseStep, StartTime: metav1.NewTime(now.Add(-4 * time.Minute))}}
	e := Of(ro, now, nil)
	if !e.Known() || e.Remaining != 11*time.Minute || e.Next != "step 2/4: pause 10m0s" {
		t.Fatalf("estimate = %+v, want 11m known, next the 10m pause", e)
	}
	if w, ok := CanaryWeight(ro); !ok || w != 20 {
		t.Fatalf("weight = %d %v, want 20", w, ok)
	}
}

func TestIndefinitePauseAheadIsWaitingForPromote(t *testing.T) {
	ro := canaryAt(0, weight(20), pause(""), weight(60), pause("30s"))
	e := Of(ro, now, nil)
	if e.Known() || !e.WaitingForPromote || e.Remaining != 30*time.Second {
		t.Fatalf("estimate = %+v, want waiting for promote, 30s besides", e)
	}
}

func TestAnalysisStepsUseTheirDuration(t *testing.T) {
	ro := canaryAt(0, weight(20), v1alpha1.CanaryStep{Analysis: &v1alpha1.RolloutAnalysis{}})
	e := Of(ro, now, func(*v1alpha1.RolloutAnalysis) (time.Duration, bool) { return 3 * time.Minute, true })
	if e.Remaining != 3*time.Minute {
		t.Fatalf("remaining = %s, want 3m", e.Remaining)
	}
}

func TestAbortedAndCompleted(t *testing.T) {
	ro := canaryAt(1, weight(20), pause("1m"))
	ro.Status.Abort = true
	if e := Of(ro, now, nil); !e.Aborted || e.Known() {
		t.Fatalf("aborted estimate = %+v", e)
	}
	if w, _ := CanaryWeight(ro); w != 0 {
		t.Fatalf("aborted weight = %d, want 0", w)
	}
	done := canaryAt(2, weight(20), pause("1m"))
	done.Status.StableRS, done.Status.Phase = "new", v1alpha1.RolloutPhaseHealthy
	if e := Of(done, now, nil); !e.Complete || e.Remaining != 0 {
		t.Fatalf("completed estimate = %+v", e)
	}
	if w, _ := CanaryWeight(done); w != 100 {
		t.Fatalf("completed weight = %d, want 100", w)
	}
}

func TestBlueGreenAutoPromotionSecondsLeft(t *testing.T) {
	ro := &v1alpha1.Rollout{Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{AutoPromotionSeconds: 60}}}}
	ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
	ro.Status.PauseConditions = []v1alpha1.PauseCondition{{Reason: v1alpha1.PauseReasonBlueGreenPause, StartTime: metav1.NewTime(now.Add(-45 * time.Second))}}
	if e := Of(ro, now, nil); e.Remaining != 15*time.Second || !e.Known() {
		t.Fatalf("estimate = %+v, want 15s", e)
	}
	if _, ok := CanaryWeight(ro); ok {
		t.Fatal("a blue-green Rollout has no canary weight")
	}
	off := false
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = &off
	if e := Of(ro, now, nil); !e.WaitingForPromote {
		t.Fatalf("estimate = %+v, want waiting for promote", e)
	}
}

func TestMetricsDuration(t *testing.T) {
	three := intstr.FromInt32(3)
	d, ok := MetricsDuration([]v1alpha1.Metric{{Interval: "1m", Count: &three, InitialDelay: "30s"}, {}})
	if !ok || d != 2*time.Minute+30*time.Second {
		t.Fatalf("duration = %s %v, want 2m30s", d, ok)
	}
	if _, ok := MetricsDuration([]v1alpha1.Metric{{Interval: "1m"}}); ok {
		t.Fatal("an interval without a count runs until stopped")
	}
}

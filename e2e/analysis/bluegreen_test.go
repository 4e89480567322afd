package analysis

import (
	"fmt"
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// seedBlueGreen is seed 003's blue-green: manual promotion, analysis of the
// preview before the switch and of the active revision after it, and the
// scale-down delay shortened.
const seedBlueGreen = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: bg
spec:
  replicas: 3
  selector:
    matchLabels: {app: bg}
  template:
    metadata:
      labels: {app: bg}
    spec:
      containers:
      - name: app
        image: bg:v1
  strategy:
    blueGreen:
      activeService: bg-active
      previewService: bg-preview
      autoPromotionEnabled: false
      scaleDownDelaySeconds: 5
      prePromotionAnalysis:
        templates: [{templateName: success-rate}]
        args: [{name: namespace, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}]
      postPromotionAnalysis:
        templates: [{templateName: success-rate}]
        args: [{name: namespace, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}]
`

func blueGreenSetup(t *testing.T) (*framework.T, *framework.R, string) {
	f := framework.New(t).Service("bg-active", "bg").Service("bg-preview", "bg")
	f.AnalysisTemplate(successRateTemplate(f, ""))
	r := f.Rollout(seedBlueGreen)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 3})
	return f, r, r.Get().Status.StableRS
}

func TestBlueGreenWithPassingPreAndPostPromotionAnalysis(t *testing.T) {
	t.Parallel()
	f, r, blue := blueGreenSetup(t)
	f.SetMetric("success_rate", 0.995)
	r.SetImage("bg:v2")
	// The pre-promotion run passes, then the rollout waits for a promote.
	r.WaitFor("the pre-promotion analysis to pass and the pause", func(ro *v1alpha1.Rollout) bool {
		pre := ro.Status.BlueGreen.PrePromotionAnalysisRunStatus
		return pre != nil && pre.Status == v1alpha1.AnalysisPhaseSuccessful && ro.Status.Phase == v1alpha1.RolloutPhasePaused
	})
	r.WaitForServiceHash("bg-active", blue)
	green := r.Get().Status.CurrentPodHash
	r.Promote()
	r.WaitForServiceHash("bg-active", green)
	r.WaitFor("the post-promotion analysis to pass", func(ro *v1alpha1.Rollout) bool {
		post := ro.Status.BlueGreen.PostPromotionAnalysisRunStatus
		return post != nil && post.Status == v1alpha1.AnalysisPhaseSuccessful
	})
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 3})
	if got := r.Get().Status.StableRS; got != green {
		t.Fatalf("stableRS = %s, want %s", got, green)
	}
	names := map[string]bool{}
	for name := range f.AnalysisRuns() {
		names[name] = true
	}
	for _, suffix := range []string{"-2-pre", "-2-post"} {
		if !names[fmt.Sprintf("bg-%s%s", green, suffix)] {
			t.Fatalf("no run bg-%s%s among %v", green, suffix, names)
		}
	}
}

func TestBlueGreenFailingPostPromotionAnalysisSwitchesBack(t *testing.T) {
	t.Parallel()
	f, r, blue := blueGreenSetup(t)
	f.SetMetric("success_rate", 0.995)
	r.SetImage("bg:v2")
	r.WaitForPhaseMessage(v1alpha1.RolloutPhasePaused, "BlueGreenPause")
	green := r.Get().Status.CurrentPodHash
	f.SetMetric("success_rate", 0.5) // the new version degrades once live
	r.Promote()
	r.WaitFor("an abort by the post-promotion analysis", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	r.WaitForServiceHash("bg-active", blue)
	if ro := r.Get(); ro.Status.StableRS != blue || ro.Status.CurrentPodHash != green {
		t.Fatalf("stable=%s current=%s, want stable %s", ro.Status.StableRS, ro.Status.CurrentPodHash, blue)
	}
}

func TestBlueGreenFailingPrePromotionAnalysisNeverSwitches(t *testing.T) {
	t.Parallel()
	f, r, blue := blueGreenSetup(t)
	f.SetMetric("success_rate", 0.5)
	r.SetImage("bg:v2")
	r.WaitFor("an abort by the pre-promotion analysis", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded
	})
	r.WaitForServiceHash("bg-active", blue)
}

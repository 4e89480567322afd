package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const blueGreen = `
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
      scaleDownDelaySeconds: 3
`

func TestBlueGreenPreviewPromoteAndScaleDown(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("bg-active", "bg").Service("bg-preview", "bg")
	r := f.Rollout(blueGreen)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 3})
	blue := r.Get().Status.StableRS
	r.WaitForServiceHash("bg-active", blue).WaitForServiceHash("bg-preview", blue)

	r.SetImage("bg:v2")
	r.WaitForPhaseMessage(v1alpha1.RolloutPhasePaused, "BlueGreenPause").WaitForReplicas(map[string]int32{"rev1": 3, "rev2": 3})
	green := r.Get().Status.CurrentPodHash
	r.WaitForServiceHash("bg-preview", green).WaitForServiceHash("bg-active", blue)
	if s := r.Get().Status; s.BlueGreen.ActiveSelector != blue || s.BlueGreen.PreviewSelector != green {
		t.Fatalf("status selectors active=%s preview=%s", s.BlueGreen.ActiveSelector, s.BlueGreen.PreviewSelector)
	}

	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForServiceHash("bg-active", green)
	// The old revision stays for scaleDownDelaySeconds, then goes.
	r.WaitForReplicas(map[string]int32{"rev2": 3})
	s := r.Get().Status
	if s.StableRS != green || s.Selector != "app=bg,rollouts-pod-template-hash="+green || s.HPAReplicas != 3 {
		t.Fatalf("stable=%s selector=%q HPAReplicas=%d", s.StableRS, s.Selector, s.HPAReplicas)
	}
}

func TestBlueGreenAutoPromotionSeconds(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("bg-active", "bg").Service("bg-preview", "bg")
	r := f.Rollout(strings.Replace(blueGreen, "autoPromotionEnabled: false", "autoPromotionSeconds: 3", 1))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("bg:v2")
	r.WaitForPhaseMessage(v1alpha1.RolloutPhasePaused, "BlueGreenPause")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForServiceHash("bg-active", r.Get().Status.CurrentPodHash)
}

func TestBlueGreenAbortBeforeTheSwitch(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("bg-active", "bg").Service("bg-preview", "bg")
	r := f.Rollout(strings.Replace(blueGreen, "scaleDownDelaySeconds: 3", "scaleDownDelaySeconds: 3\n      abortScaleDownDelaySeconds: 2", 1))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	blue := r.Get().Status.StableRS
	r.SetImage("bg:v2")
	r.WaitForPhaseMessage(v1alpha1.RolloutPhasePaused, "BlueGreenPause")
	r.Abort()
	r.WaitForPhaseMessage(v1alpha1.RolloutPhaseDegraded, "RolloutAborted: Rollout aborted update to revision 2")
	r.WaitForServiceHash("bg-active", blue)
	r.WaitForReplicas(map[string]int32{"rev1": 3})
}

func TestBlueGreenPreviewReplicaCountWithPromoteFull(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("bg-active", "bg").Service("bg-preview", "bg")
	r := f.Rollout(strings.Replace(blueGreen, "autoPromotionEnabled: false", "autoPromotionEnabled: false\n      previewReplicaCount: 1", 1))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("bg:v2")
	r.WaitForPhaseMessage(v1alpha1.RolloutPhasePaused, "BlueGreenPause").WaitForReplicas(map[string]int32{"rev1": 3, "rev2": 1})
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForServiceHash("bg-active", r.Get().Status.CurrentPodHash)
	r.WaitForReplicas(map[string]int32{"rev2": 3})
}

func TestBlueGreenActiveNeverSelectsPodsThatAreNotReady(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("bg-active", "bg").Service("bg-preview", "bg")
	r := f.Rollout(strings.Replace(blueGreen, "autoPromotionEnabled: false", "autoPromotionEnabled: true", 1))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	blue := r.Get().Status.StableRS
	r.SetImage("nonexistent/bg:broken")
	r.WaitFor("the broken revision to be scaled up", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.CurrentPodHash != blue && ro.Status.UpdatedReplicas == 3
	})
	r.Consistently("the active Service keeps the old pods", 5*time.Second, func(ro *v1alpha1.Rollout) bool {
		return ro.Status.BlueGreen.ActiveSelector == blue
	})
	r.WaitForServiceHash("bg-active", blue)
}

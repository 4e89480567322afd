package restart

import (
	"testing"
	"time"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const timedPause = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: timed
spec:
  replicas: 4
  selector:
    matchLabels: {app: timed}
  template:
    metadata:
      labels: {app: timed}
    spec:
      containers:
      - name: app
        image: timed:v1
  strategy:
    canary:
      steps:
      - setWeight: 50
      - pause: {duration: 2}
`

// onTime bounds the end of a 2s pause taken over by a new controller: the
// lease takeover and a reconcile. A lost timer shows as a pause that never
// ends (on upstream's CRDs, a status write the API server pruned once left
// the pause's requeue waiting for an event that never came).
const onTime = 30 * time.Second

func TestATimedPauseStartedBeforeARestartEndsOnTime(t *testing.T) {
	f := framework.New(t)
	r := f.Rollout(timedPause)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("timed:v2")
	r.WaitForPausedAtStep(1)

	f.Env.StopController()
	time.Sleep(3 * time.Second) // the pause ends while no controller runs
	if err := f.Env.StartController(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	r.WaitFor("the new revision promoted after the pause", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhaseHealthy && ro.Status.StableRS == ro.Status.CurrentPodHash
	})
	if took := time.Since(began); took > onTime {
		t.Errorf("the pause ended %s after the new controller started", took)
	}
	r.WaitForReplicas(map[string]int32{"rev2": 4})
}

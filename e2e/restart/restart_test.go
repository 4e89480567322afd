// Package restart checks that the controller survives being killed at any
// point of a rollout: its successor finds the ReplicaSets it made, scales
// nothing again, and writes nothing to a Rollout that is where it should be.
package restart

import (
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestMain(m *testing.M) { framework.Main(m) }

const rollout = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 5
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      stableService: demo-stable
      canaryService: demo-canary
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 60
      - pause: {}
`

// snapshot is what must not change across a controller restart.
type snapshot struct {
	replicaSets     []string // name/uid/replicas
	scalingEvents   int
	resourceVersion string
	step            int32
	phase           v1alpha1.RolloutPhase
}

func take(r *framework.R) snapshot {
	ro := r.Get()
	var rss []string
	for _, rs := range r.ReplicaSets() {
		rss = append(rss, rs.Name+"/"+string(rs.UID)+"/"+rs.Annotations[v1alpha1.AnnotationDesiredReplicas]+"/"+strconv.Itoa(int(*rs.Spec.Replicas)))
	}
	sort.Strings(rss)
	step := int32(-1)
	if ro.Status.CurrentStepIndex != nil {
		step = *ro.Status.CurrentStepIndex
	}
	return snapshot{rss, r.Events(v1alpha1.EventScalingReplicaSet), ro.ResourceVersion, step, ro.Status.Phase}
}

// restartAndCompare kills the controller, starts a new one and checks that,
// after the new one has had time to reconcile everything, nothing moved.
func restartAndCompare(t *testing.T, f *framework.T, r *framework.R) {
	t.Helper()
	before := take(r)
	f.Env.KillController()
	if err := f.Env.StartController(); err != nil {
		t.Fatal(err)
	}
	// The successor waits out the dead leader's lease (4s), then resyncs every Rollout.
	time.Sleep(10 * time.Second)
	after := take(r)
	if after.resourceVersion != before.resourceVersion {
		t.Errorf("the Rollout was written after the restart (resourceVersion %s -> %s): %+v", before.resourceVersion, after.resourceVersion, after)
	}
	if after.scalingEvents != before.scalingEvents {
		t.Errorf("the restarted controller scaled again: %d -> %d ScalingReplicaSet events", before.scalingEvents, after.scalingEvents)
	}
	if len(after.replicaSets) != len(before.replicaSets) {
		t.Fatalf("ReplicaSets changed across the restart:\n before %v\n after  %v", before.replicaSets, after.replicaSets)
	}
	for i := range before.replicaSets {
		if before.replicaSets[i] != after.replicaSets[i] {
			t.Errorf("ReplicaSets changed across the restart:\n before %v\n after  %v", before.replicaSets, after.replicaSets)
			break
		}
	}
	if after.step != before.step || after.phase != before.phase {
		t.Errorf("step/phase moved across the restart: %d/%s -> %d/%s", before.step, before.phase, after.step, after.phase)
	}
}

func TestRestartAtEveryStepChangesNothing(t *testing.T) {
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(rollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 5})
	restartAndCompare(t, f, r)

	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1).WaitForReplicas(map[string]int32{"rev1": 4, "rev2": 1})
	restartAndCompare(t, f, r)

	r.Promote()
	r.WaitForPausedAtStep(3).WaitForReplicas(map[string]int32{"rev1": 2, "rev2": 3})
	restartAndCompare(t, f, r)

	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 5})
	restartAndCompare(t, f, r)
}

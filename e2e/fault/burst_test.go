package fault

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const burstCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 2
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
      - setWeight: 50
      - pause: {}
      - setWeight: 100
`

// burstSize is how many patches each burst sends.
const burstSize = 50

// burst patches the Rollout burstSize times in a tight loop, as scripts
// and impatient users do: an annotation on every patch and, with toggle,
// every tenth patch pauses or resumes it (spec.paused), and one more
// patch resumes it at the end.
func burst(ctx context.Context, f *framework.T, name string, toggle bool) error {
	client := f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(f.Namespace)
	for n := range burstSize {
		body := fmt.Sprintf(`{"metadata":{"annotations":{"fault.serin.dev/burst":"%s-%d"}}}`, name, n)
		if toggle && n%10 == 9 {
			body = fmt.Sprintf(`{"metadata":{"annotations":{"fault.serin.dev/burst":"%s-%d"}},"spec":{"paused":%v}}`, name, n, n%20 == 9)
		}
		if _, err := client.Patch(ctx, name, types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("patch %d of the burst: %w", n, err)
		}
	}
	if toggle {
		_, err := client.Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"paused":false}}`), metav1.PatchOptions{})
		return err
	}
	return nil
}

// during sends a burst while do runs, and waits for both.
func during(f *framework.T, name string, toggle bool, do func()) {
	f.Helper()
	sent := make(chan error, 1)
	go func() { sent <- burst(f.Context(), f, name, toggle) }()
	do()
	if err := <-sent; err != nil {
		f.Fatal(err)
	}
}

// TestBurstOfUserWritesDuringACanary: as a canary starts, the user patches
// the Rollout in a tight loop, pausing and resuming it too; as it is
// promoted, they patch its annotations in another. The controller's
// writes conflict with theirs, yet the rollout converges on revision 2
// with two ReplicaSets, the controller never sends a write the API server
// rejects for any reason but a conflict, and once over it stops writing.
// (The pauses end before the promote: a pause that the controller sees
// before it acts on a promote consumes the promote, in Argo Rollouts as
// here.)
func TestBurstOfUserWritesDuringACanary(t *testing.T) {
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	withoutPackageController(f)
	c := f.StartProxiedController("burst", 0)
	r := f.Rollout(burstCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 2})

	during(f, r.Name, true, func() { r.SetImage("demo:v2") })
	r.WaitForPausedAtStep(1)
	r.WaitFor("the pause step's condition, resumed", func(ro *v1alpha1.Rollout) bool {
		return !ro.Spec.Paused && len(ro.Status.PauseConditions) == 1 && ro.Status.PauseConditions[0].Reason == v1alpha1.PauseReasonCanaryPauseStep
	})
	during(f, r.Name, false, func() { r.Promote() })
	r.WaitFor("the rollout over", func(*v1alpha1.Rollout) bool { return settled(r, 2) })
	if got := r.Replicas(); !maps.Equal(got, map[string]int32{"rev1": 0, "rev2": 2}) {
		t.Errorf("ReplicaSets %v, want exactly rev1 scaled to 0 and rev2 at 2", got)
	}
	expectQuietAndAccepted(f, c, 2*burstSize+1)
}

// expectQuietAndAccepted checks that the controller writes nothing more
// and that the API server refused none of its writes but for conflicts.
func expectQuietAndAccepted(f *framework.T, c *framework.Controller, patches int) {
	f.Helper()
	before := len(c.Proxy.ObjectWrites(f.Namespace))
	time.Sleep(4 * time.Second)
	writes := c.Proxy.ObjectWrites(f.Namespace)
	if extra := writes[before:]; len(extra) > 0 {
		f.Errorf("the controller kept writing after the rollout was over:%s", withBodies(extra))
	}
	conflicts := 0
	for _, w := range writes {
		switch {
		case w.Status == 409:
			conflicts++
		case w.Status >= 300:
			f.Errorf("the API server rejected a controller write: %s %s", w, w.Body)
		}
	}
	f.Logf("%d user patches; the controller wrote %d times, %d of them conflicts", patches, len(writes), conflicts)
}

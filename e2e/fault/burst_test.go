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

// minBurst is how many patches the user sends at least.
const minBurst = 50

// burst patches the Rollout in a tight loop, as scripts and impatient
// users do: an annotation on every patch and, with toggle, every tenth
// patch pauses or resumes it (spec.paused). It stops once stop is closed
// and at least minBurst patches went out, always leaving the Rollout
// resumed, and returns how many patches it sent.
func burst(ctx context.Context, f *framework.T, name string, toggle bool, stop <-chan struct{}) (int, error) {
	client := f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(f.Namespace)
	send := func(body string) error {
		_, err := client.Patch(ctx, name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
		return err
	}
	for n := 0; ; n++ {
		select {
		case <-stop:
			if n >= minBurst {
				return n, send(`{"spec":{"paused":false}}`)
			}
		default:
		}
		body := fmt.Sprintf(`{"metadata":{"annotations":{"fault.serin.dev/burst":"%s-%d"}}}`, name, n)
		if toggle && n%10 == 9 {
			body = fmt.Sprintf(`{"metadata":{"annotations":{"fault.serin.dev/burst":"%s-%d"}},"spec":{"paused":%v}}`, name, n, n%20 == 9)
		}
		if err := send(body); err != nil {
			return n, err
		}
	}
}

// during runs a burst while do runs, and returns how many patches it sent.
func during(f *framework.T, name string, toggle bool, do func()) int {
	f.Helper()
	stop := make(chan struct{})
	type result struct {
		n   int
		err error
	}
	sent := make(chan result, 1)
	go func() {
		n, err := burst(f.Context(), f, name, toggle, stop)
		sent <- result{n, err}
	}()
	do()
	close(stop)
	res := <-sent
	if res.err != nil {
		f.Fatalf("patch %d of the burst: %v", res.n, res.err)
	}
	return res.n
}

// TestBurstOfUserWritesDuringACanary: while a canary runs to its pause the
// user patches the Rollout in a tight loop, pausing and resuming it too;
// while it is promoted and finishes, they keep patching its annotations.
// The controller's writes conflict with theirs, yet the rollout converges
// on revision 2 with two ReplicaSets, the controller never sends a write
// the API server rejects for any reason but a conflict, and once over it
// stops writing. (The pauses stop before the promote: a pause that the
// controller sees before it acts on a promote consumes the promote, in
// Argo Rollouts as here.)
func TestBurstOfUserWritesDuringACanary(t *testing.T) {
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	withoutPackageController(f)
	c := f.StartProxiedController("burst", 0)
	r := f.Rollout(burstCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 2})

	patches := during(f, r.Name, true, func() {
		r.SetImage("demo:v2")
		r.WaitForPausedAtStep(1)
	})
	r.WaitFor("the pause step's condition, resumed", func(ro *v1alpha1.Rollout) bool {
		return !ro.Spec.Paused && len(ro.Status.PauseConditions) == 1 && ro.Status.PauseConditions[0].Reason == v1alpha1.PauseReasonCanaryPauseStep
	})
	patches += during(f, r.Name, false, func() {
		r.Promote()
		r.WaitFor("the rollout over", func(*v1alpha1.Rollout) bool { return settled(r, 2) })
	})
	if got := r.Replicas(); !maps.Equal(got, map[string]int32{"rev1": 0, "rev2": 2}) {
		t.Errorf("ReplicaSets %v, want exactly rev1 scaled to 0 and rev2 at 2", got)
	}
	expectQuietAndAccepted(f, c, patches)
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

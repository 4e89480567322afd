package fault

import (
	"slices"
	"testing"
	"time"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// pausedIstioCanary waits for a promote at step 1, so that the leader can
// be taken away at a known point.
const pausedIstioCanary = `
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
      scaleDownDelaySeconds: 2
      trafficRouting:
        istio:
          virtualService: {name: demo, routes: [primary]}
      steps:
      - setWeight: 25
      - pause: {}
      - setWeight: 75
      - pause: {duration: 1s}
`

// twoReplicas starts two controllers on a Healthy Istio canary and tells
// which one leads.
func twoReplicas(f *framework.T) (r *framework.R, leader, standby *framework.Controller) {
	f.Helper()
	f.Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(virtualServices, istioVirtualService)
	r = f.Rollout(pausedIstioCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 2})
	withoutPackageController(f)
	a, b := f.StartProxiedController("replica-a", 0), f.StartProxiedController("replica-b", 0)
	deadline := time.Now().Add(framework.DefaultTimeout)
	for !a.Proxy.Leading() && !b.Proxy.Leading() {
		if time.Now().After(deadline) {
			f.Fatal("neither replica took the Lease")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a.Proxy.Leading() {
		return r, a, b
	}
	return r, b, a
}

// waitForLead waits until a controller has written the Lease as its holder.
func waitForLead(f *framework.T, c *framework.Controller) {
	f.Helper()
	deadline := time.Now().Add(framework.DefaultTimeout)
	for !c.Proxy.Leading() {
		if time.Now().After(deadline) {
			f.Fatalf("%s never took the Lease", c.Name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectOneWriterAtATime checks that every object write the first leader
// sent, in any namespace, was answered before the second sent its first:
// the two never wrote at the same time. Both must have written.
func expectOneWriterAtATime(f *framework.T, first, second *framework.Controller) {
	f.Helper()
	firstWrites, secondWrites := objectWrites(first), objectWrites(second)
	if len(firstWrites) == 0 || len(secondWrites) == 0 {
		f.Fatalf("%s wrote %d times and %s %d times; the test needs both to write", first.Name, len(firstWrites), second.Name, len(secondWrites))
	}
	start := secondWrites[0].Sent
	for _, w := range firstWrites {
		if !w.Answered.Before(start) {
			f.Errorf("%s wrote %s at %s, after %s had started writing (%s at %s)", first.Name, w, w.Sent.Format(time.StampMicro),
				second.Name, secondWrites[0], start.Format(time.StampMicro))
		}
	}
}

// objectWrites is every object write a controller sent, in any namespace,
// in the order they were sent.
func objectWrites(c *framework.Controller) []framework.Write {
	var out []framework.Write
	for _, w := range c.Proxy.Writes() {
		if w.Kind == framework.WriteObject {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b framework.Write) int { return a.Sent.Compare(b.Sent) })
	return out
}

// expectStepWeights waits for the rollout to end and checks the traffic
// took the weight of every step once, in order.
func expectStepWeights(f *framework.T, r *framework.R, trail *weightTrail) {
	f.Helper()
	r.WaitFor("the rollout over", func(*v1alpha1.Rollout) bool { return settled(r, 2) })
	want := []string{"100/0", "75/25", "25/75", "0/100", "100/0"}
	if got := trail.Pairs(); !slices.Equal(got, want) {
		f.Errorf("VirtualService weights went %v, want exactly %v", got, want)
	}
}

// waitForWrite waits until a controller has written to the test's namespace.
func waitForWrite(f *framework.T, c *framework.Controller) {
	f.Helper()
	deadline := time.Now().Add(framework.DefaultTimeout)
	for len(c.Proxy.ObjectWrites(f.Namespace)) == 0 {
		if time.Now().After(deadline) {
			f.Fatalf("%s never wrote", c.Name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLeaderKilledMidRolloutHandsOverWithoutOverlap: with two replicas,
// killing the leader mid-rollout lets the standby take over once the Lease
// expires; it finishes the rollout, and the two never write at once.
func TestLeaderKilledMidRolloutHandsOverWithoutOverlap(t *testing.T) {
	f := framework.New(t)
	r, leader, standby := twoReplicas(f)
	trail := watchWeights(f, "demo")
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	leader.Kill()
	waitForLead(f, standby)
	r.Promote()
	expectStepWeights(f, r, trail)
	expectOneWriterAtATime(f, leader, standby)
}

// TestFrozenLeaderWritesNothingAfterItsSuccessorTookOver: a leader that
// stops running (SIGSTOP) long enough for the standby to take the Lease
// must, once it runs again, write nothing before it exits: its cache and
// its queue are stale, and the Lease is no longer its.
func TestFrozenLeaderWritesNothingAfterItsSuccessorTookOver(t *testing.T) {
	f := framework.New(t)
	r, leader, standby := twoReplicas(f)
	trail := watchWeights(f, "demo")
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	leader.Freeze()
	r.Promote() // queued for the frozen leader too
	waitForLead(f, standby)
	waitForWrite(f, standby)
	leader.Thaw()
	select {
	case <-leader.Exited():
	case <-time.After(30 * time.Second):
		t.Errorf("the old leader still runs 30s after it woke up to another holder in its Lease")
	}
	expectStepWeights(f, r, trail)
	expectOneWriterAtATime(f, leader, standby)
}

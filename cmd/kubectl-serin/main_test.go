package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	"github.com/serin-dev/serin/pkg/simulate"
)

// runWith runs a command line with fake clients and returns its exit code
// and output.
func runWith(t *testing.T, c *clients, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root, o := newRoot(&stdout, &stderr)
	if c != nil {
		o.connect = func() (*clients, error) { return c, nil }
	}
	root.SetContext(context.Background())
	return execute(root, args, &stderr), stdout.String(), stderr.String()
}

// plan -f needs no cluster: every example completes (exit 0), a spec the
// planner refuses exits 2 naming the problem, and -o json is the report.
func TestPlanFromFiles(t *testing.T) {
	code, out, errOut := runWith(t, nil, "plan", "-f", "../../examples/canary-istio-analysis.yaml", "--pod-ready", "10")
	if code != 0 || !strings.Contains(out, "Minimum time to full promotion: 3m30s") || !strings.Contains(out, "checkout-canary=50") {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errOut)
	}
	code, out, _ = runWith(t, nil, "plan", "-f", "testdata/invalid-rollout.yaml")
	if code != exitInvalidSpec || !strings.Contains(out, "InvalidSpec:") {
		t.Fatalf("invalid spec: exit %d, output:\n%s", code, out)
	}
	code, out, _ = runWith(t, nil, "plan", "-f", "../../examples/canary-basic.yaml", "-o", "json")
	var r simulate.Report
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || !r.Completed || r.PromoteWaits != 1 {
		t.Fatalf("json: exit %d, report %+v", code, r)
	}
	if code, _, errOut := runWith(t, nil, "plan"); code != exitError || !strings.Contains(errOut, "give -f") {
		t.Fatalf("no input: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runWith(t, nil, "plan", "-f", "../../examples/canary-basic.yaml", "-o", "xml"); code != exitError || !strings.Contains(errOut, "unknown output format") {
		t.Fatalf("bad -o: exit %d, %s", code, errOut)
	}
}

func rolloutWith(phase v1alpha1.RolloutPhase, abort bool) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "guestbook", Namespace: "demo", Generation: 1},
		Status: v1alpha1.RolloutStatus{Phase: phase, Abort: abort, ObservedGeneration: "1"}}
}

func fakeClients(objs ...runtime.Object) (*clients, *fake.Clientset) {
	rollouts := fake.NewSimpleClientset(objs...)
	return &clients{kube: kubefake.NewSimpleClientset(), rollouts: rollouts, namespace: "demo"}, rollouts
}

// status exits with the documented code of each phase.
func TestStatusExitCodes(t *testing.T) {
	for want, ro := range map[int]*v1alpha1.Rollout{
		0: rolloutWith(v1alpha1.RolloutPhaseHealthy, false),
		2: rolloutWith(v1alpha1.RolloutPhaseDegraded, false),
		3: rolloutWith(v1alpha1.RolloutPhaseDegraded, true),
		4: rolloutWith(v1alpha1.RolloutPhasePaused, false),
		5: rolloutWith(v1alpha1.RolloutPhaseProgressing, false),
	} {
		c, _ := fakeClients(ro)
		if code, out, errOut := runWith(t, c, "status", "guestbook"); code != want || !strings.Contains(out, string(ro.Status.Phase)) {
			t.Errorf("%s abort=%v: exit %d (want %d), %s%s", ro.Status.Phase, ro.Status.Abort, code, want, out, errOut)
		}
	}
}

// status --watch waits on a watch (not a poll) until the Rollout is final:
// a Progressing Rollout that turns Degraded and aborted exits 3.
func TestStatusWatchWaitsForAFinalPhase(t *testing.T) {
	c, rollouts := fakeClients(rolloutWith(v1alpha1.RolloutPhaseProgressing, false))
	w := watch.NewFake()
	rollouts.PrependWatchReactor("rollouts", func(k8stesting.Action) (bool, watch.Interface, error) {
		go func() {
			// A watch-list reflector waits for the end of the initial
			// events; a list-then-watch one takes these as updates.
			w.Add(rolloutWith(v1alpha1.RolloutPhaseProgressing, false))
			mark := rolloutWith(v1alpha1.RolloutPhaseProgressing, false)
			mark.ResourceVersion = "1"
			mark.Annotations = map[string]string{metav1.InitialEventsAnnotationKey: "true"}
			w.Action(watch.Bookmark, mark)
			w.Modify(rolloutWith(v1alpha1.RolloutPhasePaused, false))
			w.Modify(rolloutWith(v1alpha1.RolloutPhaseDegraded, true))
		}()
		return true, w, nil
	})
	code, out, errOut := runWith(t, c, "status", "guestbook", "--watch", "-o", "json")
	if code != 3 || !strings.Contains(out, `"aborted": true`) {
		t.Fatalf("exit %d, output %s%s", code, out, errOut)
	}
}

// status --watch --timeout on a Rollout that never becomes final exits 6.
func TestStatusWatchTimeout(t *testing.T) {
	c, rollouts := fakeClients(rolloutWith(v1alpha1.RolloutPhasePaused, false))
	w := watch.NewFake()
	rollouts.PrependWatchReactor("rollouts", func(k8stesting.Action) (bool, watch.Interface, error) {
		go func() {
			mark := rolloutWith(v1alpha1.RolloutPhasePaused, false)
			mark.ResourceVersion = "1"
			mark.Annotations = map[string]string{metav1.InitialEventsAnnotationKey: "true"}
			w.Add(rolloutWith(v1alpha1.RolloutPhasePaused, false))
			w.Action(watch.Bookmark, mark)
		}()
		return true, w, nil
	})
	if code, out, errOut := runWith(t, c, "status", "guestbook", "--watch", "--timeout", "100ms"); code != 6 {
		t.Fatalf("exit %d, want 6; %s%s", code, out, errOut)
	}
}

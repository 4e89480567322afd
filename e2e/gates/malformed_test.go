package gates

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var rollouts = v1alpha1.SchemeGroupVersion.WithResource("rollouts")

// Two Rollouts the API server accepts (the CRD leaves resources free-form)
// whose pod templates hold values their Go types cannot take: a memory
// request that is not a quantity, and the same in an ephemeral container
// that also repeats a container's name. Argo Rollouts' own suite expects
// both to become Healthy.
const malformedQuantity = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: bad-quantity
spec:
  selector:
    matchLabels: {app: bad-quantity}
  template:
    metadata:
      labels: {app: bad-quantity}
    spec:
      containers:
      - name: app
        image: app:v1
        resources:
          requests: {memory: invalid}
  strategy:
    canary: {}
`

const malformedEphemeral = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: bad-ephemeral
spec:
  selector:
    matchLabels: {app: bad-ephemeral}
  template:
    metadata:
      labels: {app: bad-ephemeral}
    spec:
      containers:
      - name: app
        image: app:v1
        resources:
          requests: {memory: invalid}
      ephemeralContainers:
      - name: app
        image: app:v1
        resources:
          requests: {memory: invalid}
  strategy:
    canary: {}
`

const timedCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
spec:
  replicas: 4
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: app
        image: shop:v1
  strategy:
    canary:
      steps:
      - setWeight: 50
      - pause: {duration: 2}
`

// onTime bounds a release of a few seconds of pauses: a frozen cache or a
// lost timer shows as a release that never ends, not a slow one.
const onTime = 30 * time.Second

func TestMalformedRolloutsStopNoOtherRollout(t *testing.T) {
	t.Parallel()
	good := framework.New(t)
	bad := framework.New(t)
	bad.Apply("bad-quantity", malformedQuantity)
	bad.Apply("bad-ephemeral", malformedEphemeral)

	r := good.Rollout(timedCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	began := time.Now()
	r.SetImage("shop:v2")
	r.WaitFor("the new revision promoted", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhaseHealthy && ro.Status.StableRS == ro.Status.CurrentPodHash && ro.Status.StableRS != ""
	})
	if took := time.Since(began); took > onTime {
		t.Errorf("a canary with a 2s pause took %s next to malformed Rollouts", took)
	}
	r.WaitForReplicas(map[string]int32{"rev2": 4})

	for _, name := range []string{"bad-quantity", "bad-ephemeral"} {
		bad.WaitForObject(rollouts, name, "Healthy", func(u *unstructured.Unstructured) bool {
			phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
			return phase == string(v1alpha1.RolloutPhaseHealthy)
		})
		if n := bad.RolloutNamed(name).Events("MalformedObject"); n == 0 {
			t.Errorf("%s: no MalformedObject event names what was left out", name)
		}
	}

	// Deleting them leaves nothing behind.
	for _, name := range []string{"bad-quantity", "bad-ephemeral"} {
		if err := bad.Env.Cluster.Dynamic().Resource(rollouts).Namespace(bad.Namespace).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, framework.DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		rss, err := bad.Env.Kube.AppsV1().ReplicaSets(bad.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		return len(rss.Items) == 0 && len(bad.Pods("")) == 0, nil
	})
	if err != nil {
		t.Fatal("ReplicaSets or pods of the deleted malformed Rollouts remain")
	}
}

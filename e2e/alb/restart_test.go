package alb

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// TestRestartMidCanaryWritesNothing kills the controller while the canary
// is paused at a weight; its successor writes neither the Rollout nor the
// Ingress.
func TestRestartMidCanaryWritesNothing(t *testing.T) {
	f, _ := albSetup(t, "web-root", "web-stable", "web-canary")
	r := f.Rollout(albRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("web:v2")
	r.WaitForPausedAtStep(2)
	client := f.Env.Cluster.Dynamic().Resource(ingresses).Namespace(f.Namespace)
	version := func() (string, string) {
		u, err := client.Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Get().ResourceVersion, u.GetResourceVersion()
	}
	// Let the last reconcile's writes land before taking the reference.
	time.Sleep(2 * time.Second)
	roBefore, ingBefore := version()
	f.Env.KillController()
	if err := f.Env.StartController(); err != nil {
		t.Fatal(err)
	}
	// The successor waits out the dead leader's lease (4s), then resyncs.
	time.Sleep(10 * time.Second)
	roAfter, ingAfter := version()
	if roAfter != roBefore || ingAfter != ingBefore {
		t.Fatalf("written after the restart: Rollout %s -> %s, Ingress %s -> %s", roBefore, roAfter, ingBefore, ingAfter)
	}
	r.Promote()
	r.WaitForPausedAtStep(4)
}

// TestDeletedRolloutGivesTheIngressBack deletes a Rollout mid-canary: its
// weighted action forwards everything to the stable Service again, its
// header route and its record go.
func TestDeletedRolloutGivesTheIngressBack(t *testing.T) {
	f, _ := albSetup(t, "web-root", "web-stable", "web-canary")
	r := f.Rollout(albRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("web:v2")
	r.WaitForPausedAtStep(2)
	if err := f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(f.Namespace).Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.WaitForObject(ingresses, "web", "given back", func(u *unstructured.Unstructured) bool {
		a := u.GetAnnotations()
		_, managed := a[managedKey]
		_, header := a["alb.ingress.kubernetes.io/conditions.beta"]
		return !managed && !header &&
			a[rootAction] == `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-stable","ServicePort":"80","Weight":100}]}}`
	})
}

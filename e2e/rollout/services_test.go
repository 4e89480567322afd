package rollout

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// refusedFor waits for an InvalidSpec condition whose message holds every part.
func refusedFor(r *framework.R, parts ...string) {
	r.WaitFor("InvalidSpec naming "+strings.Join(parts, " and "), func(ro *v1alpha1.Rollout) bool {
		for _, c := range ro.Status.Conditions {
			if c.Type != v1alpha1.InvalidSpec {
				continue
			}
			for _, p := range parts {
				if !strings.Contains(c.Message, p) {
					return false
				}
			}
			return true
		}
		return false
	})
}

const otherCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: intruder
spec:
  replicas: 1
  selector:
    matchLabels: {app: intruder}
  template:
    metadata:
      labels: {app: intruder}
    spec:
      containers:
      - name: app
        image: intruder:v1
  strategy:
    canary:
      stableService: demo-stable
`

func TestAServiceFeedingADeploymentIsNotTakenUntilTheDeploymentIsScaledDown(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	two := int32(2)
	legacy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: f.Namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: &two,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "demo"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "demo"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "demo:v0"}}},
			},
		},
	}
	deployments := f.Env.Kube.AppsV1().Deployments(f.Namespace)
	if _, err := deployments.Create(t.Context(), legacy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	r := f.Rollout(basicCanary)
	refusedFor(r, `"demo-stable"`, `Deployment "legacy"`)
	for _, name := range []string{"demo-stable", "demo-canary"} {
		f.WaitForObject(services, name, "left as the app had it", released("demo"))
	}
	if rss := r.ReplicaSets(); len(rss) != 0 {
		t.Fatalf("a refused Rollout created %d ReplicaSets", len(rss))
	}

	// Scaling the Deployment away is the signal to take over: no edit of
	// the Rollout is needed.
	if _, err := deployments.Patch(t.Context(), "legacy", types.MergePatchType, []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.WaitForServiceHash("demo-stable", r.Get().Status.StableRS)
}

func TestAServiceOfAnotherRolloutIsRefusedAndLeftAlone(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	owner := f.Rollout(basicCanary)
	owner.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	stable := owner.Get().Status.StableRS
	owner.WaitForServiceHash("demo-stable", stable)

	intruder := f.Rollout(otherCanary)
	refusedFor(intruder, `"demo-stable"`, `Rollout "demo"`)
	if rss := intruder.ReplicaSets(); len(rss) != 0 {
		t.Fatalf("the refused Rollout created %d ReplicaSets", len(rss))
	}
	owner.WaitForServiceHash("demo-stable", stable)
}

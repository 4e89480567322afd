package plan

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// A Service that already carries traffic for someone else is never taken
// over: not from another Rollout, and not from a running Deployment.

func servicesWorld(t *testing.T) *world {
	ro := canaryRollout(setWeight(20), pauseFor(""))
	ro.Spec.Strategy.Canary.StableService = "demo-stable"
	ro.Spec.Strategy.Canary.CanaryService = "demo-canary"
	w := newWorld(t, ro)
	w.addService("demo-stable")
	w.addService("demo-canary")
	return w
}

func runningDeployment(name string, replicas int32, podLabels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}},
		},
	}
}

// expectRefused checks that the plan stops at InvalidSpec with a message
// holding every part, and that it writes nothing but the status.
func expectRefused(t *testing.T, p Plan, parts ...string) {
	t.Helper()
	c := condition(p.Status, v1alpha1.InvalidSpec)
	if c == nil {
		t.Fatalf("no InvalidSpec condition; status %+v", p.Status)
	}
	for _, part := range parts {
		if !strings.Contains(c.Message, part) {
			t.Errorf("InvalidSpec message %q does not name %s", c.Message, part)
		}
	}
	if len(p.ServiceSwitches) > 0 || p.Create != nil || len(p.ReplicaSetUpdates()) > 0 || len(p.RouterWrites) > 0 {
		t.Fatalf("a refused Rollout still writes: %d switches, create %v, %d updates, %d router writes",
			len(p.ServiceSwitches), p.Create != nil, len(p.ReplicaSetUpdates()), len(p.RouterWrites))
	}
}

func TestAServiceOfAnotherRolloutIsRefusedNamingBoth(t *testing.T) {
	w := servicesWorld(t)
	w.services["demo-canary"].Annotations = map[string]string{v1alpha1.AnnotationManagedByRollouts: "payments"}

	expectRefused(t, Compute(w.state()), `"demo-canary"`, `"payments"`, "managed by another Rollout")
}

func TestAServiceFeedingARunningDeploymentIsRefusedNamingBoth(t *testing.T) {
	w := servicesWorld(t)
	st := w.state()
	st.Deployments = []*appsv1.Deployment{
		runningDeployment("other", 3, map[string]string{"app": "other"}),
		runningDeployment("legacy", 3, map[string]string{"app": "demo", "tier": "web"}),
	}

	expectRefused(t, Compute(st), `"demo-stable"`, `Deployment "legacy"`)
}

func TestAServiceIsTakenOverOnceTheDeploymentIsScaledToZero(t *testing.T) {
	w := servicesWorld(t)
	st := w.state()
	st.Deployments = []*appsv1.Deployment{runningDeployment("legacy", 0, map[string]string{"app": "demo"})}

	p := Compute(st)
	if c := condition(p.Status, v1alpha1.InvalidSpec); c != nil {
		t.Fatalf("a Deployment with no replicas blocked the Rollout: %s", c.Message)
	}
	if p.Create == nil {
		t.Fatal("the Rollout's first ReplicaSet was not created")
	}
}

func TestTheWorkloadRefDeploymentMayShareTheService(t *testing.T) {
	w := servicesWorld(t)
	w.ro.Spec.WorkloadRef = &v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "legacy"}
	st := w.state()
	st.Deployments = []*appsv1.Deployment{runningDeployment("legacy", 3, map[string]string{"app": "demo"})}

	for _, c := range Compute(st).Status.Conditions {
		if c.Type == v1alpha1.InvalidSpec && strings.Contains(c.Message, "legacy") {
			t.Fatalf("the Deployment being migrated from blocked its own Rollout: %s", c.Message)
		}
	}
}

func TestAServiceAlreadyTheRolloutsIsNotCheckedAgainstDeployments(t *testing.T) {
	w := servicesWorld(t)
	w.settle()
	st := w.state()
	// A Deployment created later with the app's labels does not take the
	// Services away from the Rollout that already manages them.
	st.Deployments = []*appsv1.Deployment{runningDeployment("late", 2, map[string]string{"app": "demo"})}

	if c := condition(Compute(st).Status, v1alpha1.InvalidSpec); c != nil {
		t.Fatalf("a managed Service was refused: %s", c.Message)
	}
}

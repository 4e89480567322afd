package rollout

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const workloadRefRollout = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 3
  workloadRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
    scaleDown: onsuccess
  strategy:
    canary:
      steps:
      - setWeight: 34
      - pause: {}
`

// TestWorkloadRefMigratesADeployment is the migration path: a Rollout takes
// its template from an existing Deployment and scales it away once healthy.
func TestWorkloadRefMigratesADeployment(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	replicas := int32(3)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: f.Namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:v1"}}},
			},
		},
	}
	deployments := f.Env.Kube.AppsV1().Deployments(f.Namespace)
	if _, err := deployments.Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// As a user would: applied from YAML, with no template at all (the typed
	// client would send an empty one, which the CRD's schema rejects).
	r := f.Apply("web", workloadRefRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 3})
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, framework.DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		got, err := deployments.Get(ctx, "web", metav1.GetOptions{})
		return err == nil && *got.Spec.Replicas == 0, nil
	})
	if err != nil {
		t.Fatal("scaleDown onsuccess did not scale the Deployment to 0")
	}
	ro := r.Get()
	if ro.Status.WorkloadObservedGeneration == "" || ro.Annotations[v1alpha1.AnnotationWorkloadGeneration] != ro.Status.WorkloadObservedGeneration {
		t.Fatalf("workload generation: annotation %q, status %q", ro.Annotations[v1alpha1.AnnotationWorkloadGeneration], ro.Status.WorkloadObservedGeneration)
	}

	// A new image in the Deployment is a new revision of the Rollout.
	// The Deployment controller writes its status meanwhile: retry on conflict.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := deployments.Get(t.Context(), "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		current.Spec.Template.Spec.Containers[0].Image = "web:v2"
		_, err = deployments.Update(t.Context(), current, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r.WaitForPausedAtStep(1).WaitForReplicas(map[string]int32{"rev1": 2, "rev2": 1})
}

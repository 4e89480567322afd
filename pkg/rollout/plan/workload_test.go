package plan

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func deployment(image string, generation int64) *unstructured.Unstructured {
	d := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "default", "generation": generation},
		"spec": map[string]any{
			"replicas": int64(5),
			"selector": map[string]any{"matchLabels": map[string]any{"app": "demo"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "demo"}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "app", "image": image}}},
			},
		},
	}}
	return d
}

func workloadRollout(scaleDown string) *v1alpha1.Rollout {
	ro := canaryRollout(setWeight(20), pauseFor(""))
	ro.Spec.Selector = nil
	ro.Spec.Template = canaryRollout().Spec.Template
	ro.Spec.Template.Labels = nil
	ro.Spec.Template.Spec.Containers = nil
	ro.Spec.WorkloadRef = &v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", ScaleDown: scaleDown}
	return ro
}

func TestWorkloadRefTakesTheDeploymentsTemplateAndScalesItDownOnSuccess(t *testing.T) {
	w := newWorld(t, workloadRollout(v1alpha1.ScaleDownOnSuccess))
	w.workload = deployment("demo:v1", 3)
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	w.expectReplicas(map[string]int32{"rev1": 5})
	var rs *appsv1.ReplicaSet
	for _, r := range w.rss {
		rs = r
	}
	if rs == nil || rs.Spec.Template.Spec.Containers[0].Image != "demo:v1" || rs.Spec.Selector.MatchLabels["app"] != "demo" {
		t.Fatalf("the ReplicaSet must come from the Deployment's template: %+v", w.replicaCounts())
	}
	if got, _, _ := unstructured.NestedInt64(w.workload.Object, "spec", "replicas"); got != 0 {
		t.Fatalf("scaleDown onsuccess leaves the Deployment at %d replicas, want 0", got)
	}
	if w.ro.Annotations[v1alpha1.AnnotationWorkloadGeneration] != "3" || w.ro.Status.WorkloadObservedGeneration != "3" {
		t.Fatalf("workload generation annotation/status = %q/%q, want 3", w.ro.Annotations[v1alpha1.AnnotationWorkloadGeneration], w.ro.Status.WorkloadObservedGeneration)
	}
	if len(w.ro.Spec.Template.Spec.Containers) != 0 {
		t.Fatal("the Rollout's own template must stay empty")
	}

	// A change to the Deployment's template is a new revision of the Rollout.
	w.workload = deployment("demo:v2", 4)
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhasePaused, string(v1alpha1.PauseReasonCanaryPauseStep))
	w.expectReplicas(map[string]int32{"rev1": 4, "rev2": 1})
	if w.ro.Status.WorkloadObservedGeneration != "4" {
		t.Fatalf("workloadObservedGeneration = %q, want 4", w.ro.Status.WorkloadObservedGeneration)
	}
}

func TestWorkloadRefNeverLeavesTheDeploymentAlone(t *testing.T) {
	w := newWorld(t, workloadRollout(""))
	w.workload = deployment("demo:v1", 1)
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if got, _, _ := unstructured.NestedInt64(w.workload.Object, "spec", "replicas"); got != 5 {
		t.Fatalf("scaleDown never must leave the Deployment at 5, got %d", got)
	}
}

func TestWorkloadRefProgressivelyScalesTheDeploymentDown(t *testing.T) {
	w := newWorld(t, workloadRollout(v1alpha1.ScaleDownProgressively))
	w.workload = deployment("demo:v1", 1)
	w.settle()
	if got, _, _ := unstructured.NestedInt64(w.workload.Object, "spec", "replicas"); got != 0 {
		t.Fatalf("scaleDown progressively ends with the Deployment at %d, want 0", got)
	}
}

func TestMissingWorkloadIsInvalidSpec(t *testing.T) {
	w := newWorld(t, workloadRollout(""))
	p := w.step()
	c := condition(p.Status, v1alpha1.InvalidSpec)
	if c == nil || c.Message != `The Rollout "demo" is invalid: spec.workloadRef.name: Invalid value: "web": Deployment "web" not found` {
		t.Fatalf("InvalidSpec = %+v", c)
	}
	if p.Create != nil {
		t.Fatal("nothing is created without the workload")
	}
}

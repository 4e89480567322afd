package rollout

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
)

// Argo Rollouts' ClusterRole grants update, not patch, on Deployments and
// pods, and patch, not update, on Ingresses: the writes keep to it.

func TestTheWorkloadIsScaledWithAnUpdate(t *testing.T) {
	legacy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "legacy", "namespace": "default", "resourceVersion": "5"},
		"spec":     map[string]any{"replicas": int64(3), "template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "demo"}}}},
	}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{deployments: "DeploymentList"}, legacy)
	objects := NewObjectCache(dyn, "", 0, nil, t.Context().Done())
	objects.Start(deployments)
	if err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		d, err := objects.Get(deployments, "default", "legacy")
		return err == nil && d != nil, nil
	}); err != nil {
		t.Fatal("the Deployment never reached the cache")
	}
	dyn.ClearActions()
	r := NewReconciler(Options{Dynamic: dyn, Objects: objects})
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "default"},
		Spec: v1alpha1.RolloutSpec{WorkloadRef: &v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "legacy"}}}

	if err := r.scaleWorkload(t.Context(), ro, 0); err != nil {
		t.Fatal(err)
	}

	var sent []string
	for _, a := range dyn.Actions() {
		sent = append(sent, a.GetVerb()+" "+a.GetResource().Resource)
	}
	if len(sent) != 1 || sent[0] != "update deployments" {
		t.Fatalf("sent %v, want one update of the Deployment", sent)
	}
	got, _ := dyn.Resource(deployments).Namespace("default").Get(t.Context(), "legacy", metav1.GetOptions{})
	if n, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); n != 0 {
		t.Fatalf("the Deployment has %d replicas, want 0", n)
	}
}

func TestPodMetadataIsChangedWithAnUpdate(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "demo-abc-1", Namespace: "default", UID: "pod-1",
			Labels: map[string]string{"app": "demo", "role": "canary"}, Annotations: map[string]string{"old": "x", "kept": "y"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "demo:v1"}}},
	}
	kube := kubefake.NewClientset(pod)
	r := NewReconciler(Options{KubeClient: kube})
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "default"},
		Spec: v1alpha1.RolloutSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "demo"}}}}
	stable := "stable"
	// The cached pod has no spec: the update must not come from it.
	lean := pod.DeepCopy()
	lean.Spec = corev1.PodSpec{}

	err := r.patchPods(t.Context(), ro, []plan.PodPatch{{Pod: lean,
		Labels: map[string]*string{"role": &stable}, Annotations: map[string]*string{"old": nil}}})
	if err != nil {
		t.Fatal(err)
	}

	var sent []string
	for _, a := range kube.Actions() {
		sent = append(sent, a.GetVerb()+" "+a.GetResource().Resource)
	}
	if len(sent) != 2 || sent[0] != "list pods" || sent[1] != "update pods" {
		t.Fatalf("sent %v, want a list then an update of the pod", sent)
	}
	got, _ := kube.CoreV1().Pods("default").Get(t.Context(), "demo-abc-1", metav1.GetOptions{})
	if got.Labels["role"] != "stable" || got.Annotations["old"] != "" || got.Annotations["kept"] != "y" || len(got.Spec.Containers) != 1 {
		t.Fatalf("pod after the update: labels %v annotations %v containers %d", got.Labels, got.Annotations, len(got.Spec.Containers))
	}
}

func TestARouterUpdateIsAMergePatchGuardedByTheObservedVersion(t *testing.T) {
	observed := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
		"metadata": map[string]any{"name": "web-canary", "namespace": "shop", "resourceVersion": "42",
			"annotations": map[string]any{"nginx.ingress.kubernetes.io/canary-weight": "10", "gone": "soon"}},
	}}
	desired := observed.DeepCopy()
	desired.SetAnnotations(map[string]string{"nginx.ingress.kubernetes.io/canary-weight": "0"})

	data, changed, err := guardedMergePatch(observed, desired)
	if err != nil || !changed {
		t.Fatalf("patch: changed %v, %v", changed, err)
	}
	var patch map[string]any
	if err := json.Unmarshal(data, &patch); err != nil {
		t.Fatal(err)
	}
	meta := patch["metadata"].(map[string]any)
	ann := meta["annotations"].(map[string]any)
	if meta["resourceVersion"] != "42" || ann["nginx.ingress.kubernetes.io/canary-weight"] != "0" || ann["gone"] != nil || len(patch) != 1 {
		t.Fatalf("patch %s", data)
	}
	if _, gone := ann["gone"]; !gone {
		t.Fatalf("patch %s does not remove the dropped annotation", data)
	}
	if _, changed, _ := guardedMergePatch(observed, observed.DeepCopy()); changed {
		t.Fatal("an unchanged object gave a patch")
	}
}

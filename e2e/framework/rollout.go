package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// DefaultTimeout bounds every wait.
const DefaultTimeout = 90 * time.Second

// T is one end-to-end test with its own namespace.
type T struct {
	*testing.T
	Env       *Env
	Namespace string
	ctx       context.Context
}

// New gives a test its own namespace, removed afterwards; when the test fails
// it prints the controller's log lines about that namespace.
func New(t *testing.T) *T {
	t.Helper()
	if env == nil {
		t.Fatal("framework.Main was not called from TestMain")
	}
	env.reviveController(t)
	ns := "e2e-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(ns) > 55 {
		ns = ns[:55]
	}
	ns = strings.TrimRight(ns, "-") + "-" + strconv.FormatInt(time.Now().UnixNano()%100000, 36)
	ctx := context.Background()
	if err := env.Cluster.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	f := &T{T: t, Env: env, Namespace: ns, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("controller log for %s:\n%s", ns, env.controllerLog(ns))
		}
		env.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	})
	return f
}

// Service creates a Service selecting app=<app>.
func (f *T) Service(name, app string) *T {
	f.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.Namespace},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": app},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	if _, err := f.Env.Kube.CoreV1().Services(f.Namespace).Create(f.ctx, svc, metav1.CreateOptions{}); err != nil {
		f.Fatalf("creating Service %s: %v", name, err)
	}
	return f
}

// Rollout creates a Rollout from YAML (the namespace is filled in).
func (f *T) Rollout(manifest string) *R {
	f.Helper()
	ro := &v1alpha1.Rollout{}
	if err := yaml.UnmarshalStrict([]byte(manifest), ro); err != nil {
		f.Fatalf("rollout manifest: %v", err)
	}
	ro.Namespace = f.Namespace
	created, err := f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(f.Namespace).Create(f.ctx, ro, metav1.CreateOptions{})
	if err != nil {
		f.Fatalf("creating Rollout: %v", err)
	}
	return &R{f: f, Name: created.Name}
}

// RolloutNamed refers to a Rollout the test created otherwise (with Apply or
// Create, say).
func (f *T) RolloutNamed(name string) *R { return &R{f: f, Name: name} }

// R is a Rollout under test.
type R struct {
	f    *T
	Name string
}

// Get reads the Rollout.
func (r *R) Get() *v1alpha1.Rollout {
	r.f.Helper()
	ro, err := r.f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(r.f.Namespace).Get(r.f.ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		r.f.Fatalf("reading Rollout %s: %v", r.Name, err)
	}
	return ro
}

// patch sends a merge patch to the Rollout or, with subresource "status", to its status.
func (r *R) patch(body string, subresource ...string) *R {
	r.f.Helper()
	_, err := r.f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(r.f.Namespace).Patch(r.f.ctx, r.Name, types.MergePatchType, []byte(body), metav1.PatchOptions{}, subresource...)
	if err != nil {
		r.f.Fatalf("patching Rollout %s with %s: %v", r.Name, body, err)
	}
	return r
}

// Edit sends a merge patch to the Rollout, as `kubectl apply` of a changed
// manifest does: several fields change in one write.
func (r *R) Edit(patch string) *R { r.f.Helper(); return r.patch(patch) }

// SetImage changes the image of every container, as `kubectl argo rollouts set image NAME *=IMAGE` does.
func (r *R) SetImage(image string) *R {
	r.f.Helper()
	err := wait.PollUntilContextTimeout(r.f.ctx, 100*time.Millisecond, DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		ro := r.Get()
		for i := range ro.Spec.Template.Spec.Containers {
			ro.Spec.Template.Spec.Containers[i].Image = image
		}
		_, err := r.f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(r.f.Namespace).Update(ctx, ro, metav1.UpdateOptions{})
		return err == nil, nil
	})
	if err != nil {
		r.f.Fatalf("setting image %s: %v", image, err)
	}
	return r
}

// Promote does what `kubectl argo rollouts promote` does.
func (r *R) Promote() *R {
	r.f.Helper()
	ro := r.Get()
	if ro.Spec.Paused {
		r.patch(`{"spec":{"paused":false}}`)
	}
	stepRun := ro.Status.Canary.CurrentStepAnalysisRunStatus
	switch {
	case ro.Spec.Strategy.Canary != nil && stepRun != nil && stepRun.Status == v1alpha1.AnalysisPhaseInconclusive &&
		len(ro.Status.PauseConditions) > 0 && ro.Status.ControllerPause:
		// Past an inconclusive step analysis: the plugin skips the step.
		next := *ro.Status.CurrentStepIndex + 1
		return r.patch(fmt.Sprintf(`{"status":{"pauseConditions":null,"controllerPause":false,"currentStepIndex":%d}}`, next), "status")
	case len(ro.Status.PauseConditions) > 0:
		return r.patch(`{"status":{"pauseConditions":null}}`, "status")
	case ro.Spec.Strategy.Canary != nil:
		next := int32(0)
		if ro.Status.CurrentStepIndex != nil {
			next = *ro.Status.CurrentStepIndex + 1
		}
		if n := int32(len(ro.Spec.Strategy.Canary.Steps)); next > n {
			next = n
		}
		return r.patch(fmt.Sprintf(`{"status":{"pauseConditions":null,"currentStepIndex":%d}}`, next), "status")
	}
	return r
}

// PromoteFull does what `kubectl argo rollouts promote --full` does.
func (r *R) PromoteFull() *R {
	r.f.Helper()
	ro := r.Get()
	if ro.Spec.Paused {
		r.patch(`{"spec":{"paused":false}}`)
	}
	if ro.Status.CurrentPodHash != ro.Status.StableRS {
		r.patch(`{"status":{"promoteFull":true}}`, "status")
	}
	return r
}

// Abort does what `kubectl argo rollouts abort` does.
func (r *R) Abort() *R { r.f.Helper(); return r.patch(`{"status":{"abort":true}}`, "status") }

// Retry does what `kubectl argo rollouts retry rollout` does.
func (r *R) Retry() *R { r.f.Helper(); return r.patch(`{"status":{"abort":false}}`, "status") }

// Pause does what `kubectl argo rollouts pause` does.
func (r *R) Pause() *R { r.f.Helper(); return r.patch(`{"spec":{"paused":true}}`) }

// Resume clears a manual pause.
func (r *R) Resume() *R { r.f.Helper(); return r.patch(`{"spec":{"paused":false}}`) }

// Undo does what `kubectl argo rollouts undo` does: the template of the
// previous revision's ReplicaSet, without the hash label, replaces the Rollout's.
func (r *R) Undo() *R {
	r.f.Helper()
	ro := r.Get()
	current, _ := strconv.Atoi(ro.Annotations[v1alpha1.AnnotationRevision])
	var target *appsv1.ReplicaSet
	for _, rs := range r.ReplicaSets() {
		rev, _ := strconv.Atoi(rs.Annotations[v1alpha1.AnnotationRevision])
		if rev < current && (target == nil || rev > mustAtoi(target.Annotations[v1alpha1.AnnotationRevision])) {
			target = rs.DeepCopy()
		}
	}
	if target == nil {
		r.f.Fatalf("no earlier revision to undo to")
	}
	tmpl := target.Spec.Template
	delete(tmpl.Labels, v1alpha1.LabelPodTemplateHash)
	value, _ := json.Marshal(tmpl)
	patch := fmt.Sprintf(`[{"op":"replace","path":"/spec/template","value":%s}]`, value)
	if _, err := r.f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(r.f.Namespace).Patch(r.f.ctx, r.Name, types.JSONPatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		r.f.Fatalf("undo: %v", err)
	}
	return r
}

// ReplicaSets are the Rollout's ReplicaSets, found by owner UID as the plugin does.
func (r *R) ReplicaSets() []appsv1.ReplicaSet {
	r.f.Helper()
	ro := r.Get()
	list, err := r.f.Env.Kube.AppsV1().ReplicaSets(r.f.Namespace).List(r.f.ctx, metav1.ListOptions{})
	if err != nil {
		r.f.Fatal(err)
	}
	var out []appsv1.ReplicaSet
	for _, rs := range list.Items {
		if ref := metav1.GetControllerOf(&rs); ref != nil && ref.UID == ro.UID {
			out = append(out, rs)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return mustAtoi(out[i].Annotations[v1alpha1.AnnotationRevision]) < mustAtoi(out[j].Annotations[v1alpha1.AnnotationRevision])
	})
	return out
}

// Replicas maps "rev<N>" to the spec.replicas of that revision's ReplicaSet.
func (r *R) Replicas() map[string]int32 {
	out := map[string]int32{}
	for _, rs := range r.ReplicaSets() {
		n := int32(0)
		if rs.Spec.Replicas != nil {
			n = *rs.Spec.Replicas
		}
		out["rev"+rs.Annotations[v1alpha1.AnnotationRevision]] = n
	}
	return out
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// Events counts the events with a reason recorded on the Rollout.
func (r *R) Events(reason string) int {
	r.f.Helper()
	list, err := r.f.Env.Kube.CoreV1().Events(r.f.Namespace).List(r.f.ctx, metav1.ListOptions{})
	if err != nil {
		r.f.Fatal(err)
	}
	n := 0
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "Rollout" && e.InvolvedObject.Name == r.Name && e.Reason == reason {
			n += int(max(e.Count, 1))
		}
	}
	return n
}

// Restart does what `kubectl argo rollouts restart` does.
func (r *R) Restart(at time.Time) *R {
	r.f.Helper()
	return r.patch(fmt.Sprintf(`{"spec":{"restartAt":%q}}`, at.UTC().Format(time.RFC3339)))
}

// Pods lists the namespace's pods matching a label selector.
func (f *T) Pods(selector string) []corev1.Pod {
	f.Helper()
	list, err := f.Env.Kube.CoreV1().Pods(f.Namespace).List(f.ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		f.Fatal(err)
	}
	return list.Items
}

// WaitForPodCount waits until exactly n running (not deleting) pods match the selector.
func (f *T) WaitForPodCount(selector string, n int) {
	f.Helper()
	got := -1
	err := wait.PollUntilContextTimeout(f.ctx, 200*time.Millisecond, DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		got = 0
		for _, p := range f.Pods(selector) {
			if p.DeletionTimestamp == nil {
				got++
			}
		}
		return got == n, nil
	})
	if err != nil {
		f.Fatalf("waiting for %d pods matching %s: have %d", n, selector, got)
	}
}

// AnalysisTemplate creates an AnalysisTemplate from YAML (the namespace is filled in).
func (f *T) AnalysisTemplate(manifest string) {
	f.Helper()
	at := &v1alpha1.AnalysisTemplate{}
	if err := yaml.UnmarshalStrict([]byte(manifest), at); err != nil {
		f.Fatalf("AnalysisTemplate manifest: %v", err)
	}
	at.Namespace = f.Namespace
	if _, err := f.Env.Rollouts.ArgoprojV1alpha1().AnalysisTemplates(f.Namespace).Create(f.ctx, at, metav1.CreateOptions{}); err != nil {
		f.Fatalf("creating AnalysisTemplate: %v", err)
	}
}

// AnalysisRuns lists the namespace's AnalysisRuns by name.
func (f *T) AnalysisRuns() map[string]*v1alpha1.AnalysisRun {
	f.Helper()
	list, err := f.Env.Rollouts.ArgoprojV1alpha1().AnalysisRuns(f.Namespace).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.Fatal(err)
	}
	out := map[string]*v1alpha1.AnalysisRun{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out
}

// SetMetric sets a gauge that Prometheus scrapes from the test exporter,
// labelled with the test's namespace, and waits until Prometheus has it.
func (f *T) SetMetric(name string, value float64) {
	f.Helper()
	f.Env.Cluster.Exporter().Set(name, map[string]string{"namespace": f.Namespace}, value)
	query := fmt.Sprintf(`%s{namespace=%q}`, name, f.Namespace)
	if err := f.Env.Cluster.WaitForPrometheusValue(f.ctx, query, value); err != nil {
		f.Fatalf("Prometheus never saw %s = %v: %v", query, value, err)
	}
}

// Apply creates a Rollout from YAML with kubectl, exactly as written.
func (f *T) Apply(name, manifest string) *R {
	f.Helper()
	file := filepath.Join(f.TempDir(), "rollout.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		f.Fatal(err)
	}
	if out, err := f.Env.Cluster.Kubectl(f.ctx, "apply", "-n", f.Namespace, "-f", file); err != nil {
		f.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	return &R{f: f, Name: name}
}

// Create creates any object from YAML in the test's namespace.
func (f *T) Create(gvr schema.GroupVersionResource, manifest string) {
	f.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		f.Fatal(err)
	}
	if _, err := f.Env.Cluster.Dynamic().Resource(gvr).Namespace(f.Namespace).Create(f.ctx, u, metav1.CreateOptions{}); err != nil {
		f.Fatalf("creating %s: %v", gvr.Resource, err)
	}
}

// WaitForObject polls an object of the test's namespace until check holds.
func (f *T) WaitForObject(gvr schema.GroupVersionResource, name, what string, check func(*unstructured.Unstructured) bool) {
	f.Helper()
	var last *unstructured.Unstructured
	err := wait.PollUntilContextTimeout(f.ctx, 200*time.Millisecond, DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		u, err := f.Env.Cluster.Dynamic().Resource(gvr).Namespace(f.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = u
		return check(u), nil
	})
	if err != nil {
		f.Fatalf("waiting for %s %s %s: last %v", gvr.Resource, name, what, last)
	}
}

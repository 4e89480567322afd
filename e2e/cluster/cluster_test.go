package cluster_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/serin-dev/serin/e2e/cluster"
)

const ns = "cluster-e2e"

// TestCluster starts the whole cluster and checks that each part really
// works: kwok runs Deployments and Jobs, failure conventions hold, the CRDs
// are served and Prometheus sees what the exporter says.
func TestCluster(t *testing.T) {
	root, err := cluster.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SERIN_E2E") != "1" && !cluster.BinariesReady(root) {
		t.Skip("e2e cluster binaries are not built: run `go run ./cmd/cluster build` in e2e/ " +
			"(or set SERIN_E2E=1 to build them, ~10 minutes cold)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// SERIN_E2E_SKIP_PROJECT_CRDS=1 leaves out manifests/crds (Istio and
	// Gateway API CRDs are still installed).
	skipCRDs := os.Getenv("SERIN_E2E_SKIP_PROJECT_CRDS") == "1"
	c, err := cluster.Start(ctx, cluster.Options{RepoRoot: root, Build: true, SkipProjectCRDs: skipCRDs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}

	t.Run("parts", func(t *testing.T) {
		t.Run("DeploymentAvailable", func(t *testing.T) { t.Parallel(); testDeployment(ctx, t, c) })
		t.Run("BrokenDeploymentNeverReady", func(t *testing.T) { t.Parallel(); testBrokenDeployment(ctx, t, c) })
		t.Run("JobFails", func(t *testing.T) { t.Parallel(); testJob(ctx, t, c, "fails", "sleep 2 && exit 1", false) })
		t.Run("JobCompletes", func(t *testing.T) { t.Parallel(); testJob(ctx, t, c, "completes", "sleep 1 && exit 0", true) })
		t.Run("PrometheusSeesExporter", func(t *testing.T) { t.Parallel(); testPrometheus(ctx, t, c) })
		t.Run("CRDsServed", func(t *testing.T) { t.Parallel(); testCRDs(ctx, t, c) })
		t.Run("DefaultServiceAccount", func(t *testing.T) { t.Parallel(); testDefaultServiceAccount(ctx, t, c) })
	})

	t.Run("StopKillsEverything", func(t *testing.T) {
		pids, dir := c.Pids(), c.Dir()
		c.Stop()
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d still exists after Stop (kill 0: %v)", pid, err)
			}
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cluster dir %s still exists after Stop", dir)
		}
	})
}

func poll(ctx context.Context, t *testing.T, what string, timeout time.Duration, cond func(context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func deployment(name string, command ...string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: int32p(3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/demo:v1", Command: command,
				}}},
			},
		},
	}
}

func testDeployment(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	cs := c.Client()
	start := time.Now()
	d, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment("demo"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "3/3 available", 60*time.Second, func(ctx context.Context) (bool, error) {
		d, err = cs.AppsV1().Deployments(ns).Get(ctx, "demo", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == 3 && d.Status.ReadyReplicas == 3, err
	})
	t.Logf("deployment 3/3 available in %s", time.Since(start).Round(time.Millisecond))
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=demo"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 3 {
		t.Fatalf("got %d pods, want 3", len(pods.Items))
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName != cluster.NodeName || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			t.Errorf("pod %s: node %q phase %s ip %q, want running on %s with an IP",
				p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP, cluster.NodeName)
		}
	}

	// An image change rolls out to a second ReplicaSet.
	d.Spec.Template.Spec.Containers[0].Image = "registry.example/demo:v2"
	if _, err := cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "rollout to v2", 60*time.Second, func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "demo", metav1.GetOptions{})
		return err == nil && d.Status.ObservedGeneration == d.Generation && d.Status.UpdatedReplicas == 3 &&
			d.Status.AvailableReplicas == 3 && d.Status.Replicas == 3, err
	})
	rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=demo"})
	if err != nil || len(rss.Items) != 2 {
		t.Fatalf("want 2 ReplicaSets after the rollout, got %d (%v)", len(rss.Items), err)
	}
}

func testBrokenDeployment(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	cs := c.Client()
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment("broken", "/bad-command"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crashing := func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=broken"})
		if err != nil || len(pods.Items) != 3 {
			return false, err
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != 1 {
				return false, nil
			}
			st := p.Status.ContainerStatuses[0]
			if st.Ready || st.State.Waiting == nil || st.State.Waiting.Reason != "CrashLoopBackOff" {
				return false, nil
			}
		}
		return true, nil
	}
	poll(ctx, t, "3 pods in CrashLoopBackOff", 60*time.Second, crashing)
	// Give a fake kubelet that would wrongly make them ready the time to do so.
	time.Sleep(4 * time.Second)
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "broken", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.ReadyReplicas != 0 || d.Status.AvailableReplicas != 0 {
		t.Errorf("broken deployment: %d ready, %d available, want 0", d.Status.ReadyReplicas, d.Status.AvailableReplicas)
	}
	if ok, err := crashing(ctx); !ok {
		t.Errorf("broken pods left CrashLoopBackOff (%v)", err)
	}
}

func testJob(ctx context.Context, t *testing.T, c *cluster.Cluster, name, script string, succeed bool) {
	cs := c.Client()
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: batchv1.JobSpec{
			BackoffLimit: int32p(0),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{
					Name: "script", Image: "busybox", Command: []string{"sh", "-c", script},
				}},
			}},
		},
	}
	start := time.Now()
	if _, err := cs.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := batchv1.JobComplete
	if !succeed {
		want = batchv1.JobFailed
	}
	var got *batchv1.Job
	poll(ctx, t, "job "+string(want), 60*time.Second, func(ctx context.Context) (bool, error) {
		j, err := cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range j.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				continue
			}
			if cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed {
				got = j
				if cond.Type != want {
					return false, errors.New("job ended " + string(cond.Type))
				}
				return true, nil
			}
		}
		return false, nil
	})
	elapsed := time.Since(start)
	sleep := map[bool]time.Duration{true: time.Second, false: 2 * time.Second}[succeed]
	if elapsed < sleep {
		t.Errorf("job %q ended after %s, before its sleep of %s", script, elapsed, sleep)
	}
	t.Logf("job %q: %s after %s", script, want, elapsed.Round(time.Millisecond))
	if succeed && got.Status.Succeeded != 1 || !succeed && got.Status.Failed != 1 {
		t.Errorf("job status: succeeded %d failed %d", got.Status.Succeeded, got.Status.Failed)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + name})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("want 1 pod of job %s, got %d (%v)", name, len(pods.Items), err)
	}
	p := pods.Items[0]
	wantPhase, wantCode := corev1.PodSucceeded, int32(0)
	if !succeed {
		wantPhase, wantCode = corev1.PodFailed, 1
	}
	if p.Status.Phase != wantPhase || len(p.Status.ContainerStatuses) != 1 ||
		p.Status.ContainerStatuses[0].State.Terminated == nil ||
		p.Status.ContainerStatuses[0].State.Terminated.ExitCode != wantCode {
		t.Errorf("pod %s: phase %s, statuses %+v; want %s with exit code %d",
			p.Name, p.Status.Phase, p.Status.ContainerStatuses, wantPhase, wantCode)
	}
}

func testPrometheus(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	exp := c.Exporter()
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	exp.Set("success_rate", map[string]string{"service": "demo-canary"}, 0.8)
	if err := c.WaitForPrometheusValue(qctx, `success_rate{service="demo-canary"}`, 0.8); err != nil {
		t.Fatal(err)
	}
	exp.Set("success_rate", map[string]string{"service": "demo-canary"}, 0.95)
	if err := c.WaitForPrometheusValue(qctx, `success_rate{service="demo-canary"}`, 0.95); err != nil {
		t.Fatal(err)
	}

	exp.AddRequests("demo-canary", 200, 80)
	exp.AddRequests("demo-canary", 503, 20)
	exp.AddRequests("demo-stable", 200, 100)
	q := `sum(http_requests_total{service="demo-canary",code!~"5.."}) / sum(http_requests_total{service="demo-canary"})`
	if err := c.WaitForPrometheusValue(qctx, q, 0.8); err != nil {
		t.Fatal(err)
	}
	v, err := c.QueryPrometheus(qctx, `sum(http_requests_total)`)
	if err != nil || v != 200 {
		t.Errorf("sum(http_requests_total) = %v (%v), want 200", v, err)
	}
}

func testCRDs(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	for _, gvr := range []schema.GroupVersionResource{
		{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"},
		{Group: "networking.istio.io", Version: "v1", Resource: "destinationrules"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"},
	} {
		if _, err := c.Dynamic().Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("listing %s: %v", gvr, err)
		}
	}
	// The bundled kubectl sees them too (Start has waited for every CRD of
	// manifests/crds, Istio and the Gateway API to be Established).
	out, err := c.Kubectl(ctx, "get", "crd", "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"virtualservices.networking.istio.io", "httproutes.gateway.networking.k8s.io"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl get crd lacks %s:\n%s", want, out)
		}
	}
}

func int32p(v int32) *int32 { return &v }

func testDefaultServiceAccount(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	cs := c.Client()
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "sa-check"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "ServiceAccount sa-check/default", 30*time.Second, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts("sa-check").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

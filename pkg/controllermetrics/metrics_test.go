package controllermetrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

func TestControllerInfo(t *testing.T) {
	m := New("v1.2.3")
	want := `
# HELP argo_rollouts_controller_info Always 1; the version label is the running controller's version.
# TYPE argo_rollouts_controller_info gauge
argo_rollouts_controller_info{version="v1.2.3"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "argo_rollouts_controller_info"); err != nil {
		t.Error(err)
	}
}

func TestReconcileMetrics(t *testing.T) {
	m := New("test")
	m.ObserveRolloutReconcile("shop", "web", 20*time.Millisecond, nil)
	m.ObserveRolloutReconcile("shop", "web", 300*time.Millisecond, errors.New("boom"))
	m.ObserveAnalysisRunReconcile("shop", "run", 5*time.Millisecond, errors.New("boom"))
	m.ObserveExperimentReconcile("shop", "exp", 2*time.Second, nil)

	want := `
# HELP rollout_reconcile Time taken by each reconcile of a Rollout, in seconds.
# TYPE rollout_reconcile histogram
rollout_reconcile_bucket{name="web",namespace="shop",le="0.01"} 0
rollout_reconcile_bucket{name="web",namespace="shop",le="0.15"} 1
rollout_reconcile_bucket{name="web",namespace="shop",le="0.25"} 1
rollout_reconcile_bucket{name="web",namespace="shop",le="0.5"} 2
rollout_reconcile_bucket{name="web",namespace="shop",le="1"} 2
rollout_reconcile_bucket{name="web",namespace="shop",le="+Inf"} 2
rollout_reconcile_sum{name="web",namespace="shop"} 0.32
rollout_reconcile_count{name="web",namespace="shop"} 2
# HELP rollout_reconcile_error Number of Rollout reconciles that ended in an error.
# TYPE rollout_reconcile_error counter
rollout_reconcile_error{name="web",namespace="shop"} 1
# HELP analysis_run_reconcile_error Number of AnalysisRun reconciles that ended in an error.
# TYPE analysis_run_reconcile_error counter
analysis_run_reconcile_error{name="run",namespace="shop"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"rollout_reconcile", "rollout_reconcile_error", "analysis_run_reconcile_error", "experiment_reconcile_error"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.experimentReconcile.duration); n != 1 {
		t.Errorf("experiment_reconcile has %d series, want 1", n)
	}

	m.ForgetRollout("shop", "web")
	m.ForgetAnalysisRun("shop", "run")
	m.ForgetExperiment("shop", "exp")
	for name, n := range map[string]int{
		"rollout_reconcile":       testutil.CollectAndCount(m.rolloutReconcile.duration),
		"rollout_reconcile_error": testutil.CollectAndCount(m.rolloutReconcile.errors),
		"analysis_run_reconcile":  testutil.CollectAndCount(m.analysisRunReconcile.duration),
		"experiment_reconcile":    testutil.CollectAndCount(m.experimentReconcile.duration),
	} {
		if n != 0 {
			t.Errorf("%s still has %d series after Forget", name, n)
		}
	}
}

func TestEventRecorderCountsRolloutEvents(t *testing.T) {
	m := New("test")
	inner := record.NewFakeRecorder(10)
	rec := m.EventRecorder(inner)

	ro := &v1alpha1.Rollout{ObjectMeta: objMeta("shop", "web")}
	rec.Eventf(ro, corev1.EventTypeNormal, v1alpha1.EventRolloutUpdated, "Rollout updated to revision %d", 2)
	rec.Event(ro, corev1.EventTypeNormal, v1alpha1.EventRolloutUpdated, "again")
	rec.WithLogger(klog.Background()).AnnotatedEventf(ro, map[string]string{"a": "b"}, corev1.EventTypeWarning, v1alpha1.EventReconciliationError, "failed: %v", "x")
	rec.Event(&corev1.ObjectReference{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Namespace: "shop", Name: "api"},
		corev1.EventTypeNormal, v1alpha1.EventRolloutPaused, "paused")
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("argoproj.io/v1alpha1")
	u.SetKind("Rollout")
	u.SetNamespace("shop")
	u.SetName("dyn")
	rec.Event(u, corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "done")
	// Not Rollouts: passed on, not counted.
	rec.Event(&appsv1.ReplicaSet{ObjectMeta: objMeta("shop", "web-abc")}, corev1.EventTypeNormal, "Scaled", "x")
	rec.Event(&corev1.ObjectReference{APIVersion: "example.com/v1", Kind: "Rollout", Namespace: "shop", Name: "other"},
		corev1.EventTypeNormal, "Other", "x")

	want := `
# HELP rollout_events_total Number of Kubernetes events emitted on Rollouts, by event type and reason.
# TYPE rollout_events_total counter
rollout_events_total{name="api",namespace="shop",reason="RolloutPaused",type="Normal"} 1
rollout_events_total{name="dyn",namespace="shop",reason="RolloutCompleted",type="Normal"} 1
rollout_events_total{name="web",namespace="shop",reason="ReconciliationError",type="Warning"} 1
rollout_events_total{name="web",namespace="shop",reason="RolloutUpdated",type="Normal"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "rollout_events_total"); err != nil {
		t.Error(err)
	}
	if n := len(inner.Events); n != 7 {
		t.Errorf("wrapped recorder got %d events, want all 7", n)
	}

	m.ForgetRollout("shop", "web")
	if n := testutil.CollectAndCount(m.rolloutEvents); n != 2 {
		t.Errorf("after ForgetRollout(web): %d event series, want 2", n)
	}
}

func TestHandlerServesWorkqueueAndCollectors(t *testing.T) {
	m := New("test")
	m.MustRegister(NewRolloutCollector(oneRollout(t)))
	q := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "rollouts", MetricsProvider: m.WorkqueueMetricsProvider()})
	defer q.ShutDown()
	q.Add("a")
	q.Add("b")

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, line := range []string{
		`workqueue_depth{name="rollouts"} 2`,
		`workqueue_adds_total{name="rollouts"} 2`,
		`rollout_info{name="web",namespace="shop",phase="Progressing",strategy="none",traffic_router=""} 1`,
		`argo_rollouts_controller_info{version="test"} 1`,
		"go_goroutines ",
		"go_build_info{checksum=",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

func oneRollout(t *testing.T) rolloutlisters.RolloutLister {
	t.Helper()
	return rolloutlisters.NewRolloutLister(indexer(t, &v1alpha1.Rollout{ObjectMeta: objMeta("shop", "web")}))
}

func TestNotificationMetricsCountPerEventAndAreForgotten(t *testing.T) {
	m := New("test")
	m.NotificationSent("shop", "web", corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted)
	m.NotificationSent("shop", "web", corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted)
	m.NotificationFailed("shop", "web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted)
	m.NotificationSent("shop", "api", corev1.EventTypeNormal, v1alpha1.EventRolloutPaused)
	m.ObserveNotificationSend("shop", "web", 200*time.Millisecond)

	want := `
# HELP notification_send_error Number of notifications that could not be sent, by the event that triggered them.
# TYPE notification_send_error counter
notification_send_error{name="web",namespace="shop",reason="RolloutAborted",type="Warning"} 1
# HELP notification_send_success Number of notifications sent, by the event that triggered them.
# TYPE notification_send_success counter
notification_send_success{name="api",namespace="shop",reason="RolloutPaused",type="Normal"} 1
notification_send_success{name="web",namespace="shop",reason="RolloutCompleted",type="Normal"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "notification_send_success", "notification_send_error"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.notifications.send); n != 1 {
		t.Errorf("notification_send: %d series, want 1", n)
	}
	m.ForgetRollout("shop", "web")
	if n := testutil.CollectAndCount(m.notifications.success); n != 1 {
		t.Errorf("after ForgetRollout(web): %d success series, want 1 (api)", n)
	}
	if n := testutil.CollectAndCount(m.notifications.failed) + testutil.CollectAndCount(m.notifications.send); n != 0 {
		t.Errorf("after ForgetRollout(web): %d error/send series left, want 0", n)
	}
	// Events on AnalysisRuns and Experiments are timed too; their series
	// go with them.
	m.ObserveNotificationSend("shop", "web-run-1", time.Millisecond)
	m.ObserveNotificationSend("shop", "web-exp-1", time.Millisecond)
	m.ForgetAnalysisRun("shop", "web-run-1")
	m.ForgetExperiment("shop", "web-exp-1")
	if n := testutil.CollectAndCount(m.notifications.send); n != 0 {
		t.Errorf("after forgetting the run and the experiment: %d send series left, want 0", n)
	}
}

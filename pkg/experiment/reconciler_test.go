package experiment

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func analysisTemplate() *v1alpha1.AnalysisTemplate {
	return &v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "check", Namespace: "shop"},
		Spec: v1alpha1.AnalysisTemplateSpec{
			Args:    []v1alpha1.Argument{{Name: "hash"}},
			Metrics: []v1alpha1.Metric{{Name: "ok", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: "http://x/{{args.hash}}"}}}},
		},
	}
}

func withAnalysis(ex *v1alpha1.Experiment) *v1alpha1.Experiment {
	hash := "{{templates.canary.podTemplateHash}}"
	ex.Spec.Analyses = []v1alpha1.ExperimentAnalysisTemplateRef{{Name: "check", TemplateName: "check",
		Args: []v1alpha1.Argument{{Name: "hash", Value: &hash}}}}
	return ex
}

// run reconciles, syncs the caches and runs the kubelet until a reconcile
// writes nothing, checking that no reconcile patches the status twice.
func (f *fixture) run(max int) {
	f.t.Helper()
	for range max {
		_, writes := f.reconcile()
		if n := count(writes, "patch", "experiments"); n > 1 {
			f.t.Fatalf("%d status patches in one reconcile", n)
		}
		f.sync()
		f.kubelet()
		f.sync()
		if len(writes) == 0 {
			return
		}
	}
	f.t.Fatalf("no rest after %d reconciles", max)
}

func TestReconcileRunsTheExperimentWithOnePatchPerReconcile(t *testing.T) {
	f := newFixture(t, nil, withAnalysis(newExperiment()), analysisTemplate())
	_, writes := f.reconcile()
	if count(writes, "create", "replicasets") != 2 || count(writes, "patch", "experiments") != 1 {
		t.Fatalf("first reconcile writes: %v", writes)
	}
	f.sync()
	f.run(20)
	ex := f.experiment()
	if ex.Status.Phase != v1alpha1.AnalysisPhaseRunning || ex.Status.AvailableAt == nil {
		t.Fatalf("status %+v", ex.Status)
	}
	ctx := context.Background()
	if rs, _ := f.kube.AppsV1().ReplicaSets("shop").Get(ctx, "exp-canary", metav1.GetOptions{}); *rs.Spec.Replicas != 1 {
		t.Errorf("canary replicas %d", *rs.Spec.Replicas)
	}
	if _, err := f.kube.CoreV1().Services("shop").Get(ctx, "exp-canary", metav1.GetOptions{}); err != nil {
		t.Errorf("canary service: %v", err)
	}
	if _, err := f.argo.ArgoprojV1alpha1().AnalysisRuns("shop").Get(ctx, "exp-check", metav1.GetOptions{}); err != nil {
		t.Errorf("run: %v", err)
	}
	// Converged: nothing to write, not even the status.
	f.clock.Step(time.Hour)
	if _, writes := f.reconcile(); len(writes) != 0 {
		t.Errorf("converged reconcile wrote %v", writes)
	}
	events := f.events()
	for _, reason := range []string{"ExperimentPending", "ExperimentRunning", "ScalingReplicaSet", "TemplateRunning", "AnalysisRunPending"} {
		if !strings.Contains(events, " "+reason+" ") {
			t.Errorf("no %s event in\n%s", reason, events)
		}
	}
}

// events drains the recorded events, one per line.
func (f *fixture) events() string {
	var b strings.Builder
	for {
		select {
		case e := <-f.recorder.Events:
			b.WriteString(e + "\n")
		default:
			return b.String()
		}
	}
}

// A restarted controller finds everything it made and creates nothing.
func TestRestartCreatesNothingTwice(t *testing.T) {
	f := newFixture(t, nil, withAnalysis(newExperiment()), analysisTemplate())
	f.run(20)
	f.restart()
	if _, writes := f.reconcile(); len(writes) != 0 {
		t.Errorf("restarted controller wrote %v", writes)
	}
}

// A ReplicaSet the cache does not show yet is taken up, not recreated or
// counted as a collision.
func TestStaleCacheAdoptsOwnReplicaSet(t *testing.T) {
	f := newFixture(t, nil, newExperiment())
	f.reconcile()
	ex := f.experiment()
	ex.Status = v1alpha1.ExperimentStatus{} // the status write was lost
	f.experiments.Update(ex)
	_, writes := f.reconcile()
	if count(writes, "create", "replicasets") != 2 {
		t.Fatalf("writes %v", writes)
	}
	sets, _ := f.kube.AppsV1().ReplicaSets("shop").List(context.Background(), metav1.ListOptions{})
	if len(sets.Items) != 2 {
		t.Errorf("%d ReplicaSets", len(sets.Items))
	}
	for _, ts := range f.experiment().Status.TemplateStatuses {
		if ts.CollisionCount != nil {
			t.Errorf("template %s has a collision count", ts.Name)
		}
	}
}

// A run created by a reconcile whose status write was lost is taken up
// under its name.
func TestLostStatusWriteAdoptsRun(t *testing.T) {
	f := newFixture(t, nil, withAnalysis(newExperiment()), analysisTemplate())
	f.run(20)
	ex := f.experiment()
	ex.Status.AnalysisRuns = nil
	f.experiments.Update(ex)
	if err := f.runs.Replace(nil, ""); err != nil { // nor is the run cached
		t.Fatal(err)
	}
	_, writes := f.reconcile()
	if count(writes, "create", "analysisruns") != 1 {
		t.Fatalf("writes %v", writes)
	}
	runs, _ := f.argo.ArgoprojV1alpha1().AnalysisRuns("shop").List(context.Background(), metav1.ListOptions{})
	if len(runs.Items) != 1 {
		t.Errorf("%d runs", len(runs.Items))
	}
	if s := f.experiment().Status.AnalysisRunStatusByName("check"); s == nil || s.AnalysisRun != "exp-check" {
		t.Errorf("run status %+v", s)
	}
}

// A ReplicaSet name held by someone else's ReplicaSet is a collision.
func TestForeignReplicaSetIsACollision(t *testing.T) {
	foreign := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "exp-baseline", Namespace: "shop"}}
	f := newFixture(t, []runtime.Object{foreign}, newExperiment())
	if err := f.rs.Delete(foreign); err != nil { // not in the hash-label cache
		t.Fatal(err)
	}
	f.reconcile()
	ts := f.experiment().Status.TemplateStatusByName("baseline")
	if ts == nil || ts.CollisionCount == nil || *ts.CollisionCount != 1 {
		t.Errorf("template status %+v", ts)
	}
}

// A ReplicaSet the API server refuses errors its template, then the
// experiment.
func TestRefusedReplicaSetErrorsTheExperiment(t *testing.T) {
	f := newFixture(t, nil, newExperiment())
	f.kube.PrependReactor("create", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "exp-baseline", errDenied)
	})
	f.run(5)
	ex := f.experiment()
	want := "Failed to create ReplicaSet for template 'baseline': replicasets.apps \"exp-baseline\" is forbidden: quota exceeded"
	if ex.Status.Phase != v1alpha1.AnalysisPhaseError || ex.Status.Message != want {
		t.Errorf("phase %s %q", ex.Status.Phase, ex.Status.Message)
	}
}

var errDenied = errorString("quota exceeded")

type errorString string

func (e errorString) Error() string { return string(e) }

// spec.terminate, sent as the plugin's merge patch, ends the experiment
// Successful and scales it down after the delay.
func TestTerminateMergePatch(t *testing.T) {
	ex := newExperiment()
	ex.Spec.ScaleDownDelaySeconds = new(int32)
	f := newFixture(t, nil, ex)
	f.run(20)
	if _, err := f.argo.ArgoprojV1alpha1().Experiments("shop").Patch(context.Background(), "exp", types.MergePatchType, []byte(`{"spec":{"terminate":true}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync()
	f.run(20)
	if got := f.experiment().Status.Phase; got != v1alpha1.AnalysisPhaseSuccessful {
		t.Errorf("phase %s", got)
	}
	sets, _ := f.kube.AppsV1().ReplicaSets("shop").List(context.Background(), metav1.ListOptions{})
	for _, rs := range sets.Items {
		if *rs.Spec.Replicas != 0 {
			t.Errorf("%s has %d replicas", rs.Name, *rs.Spec.Replicas)
		}
	}
	if svcs, _ := f.kube.CoreV1().Services("shop").List(context.Background(), metav1.ListOptions{}); len(svcs.Items) != 0 {
		t.Errorf("%d services left", len(svcs.Items))
	}
}

// A scale the API server refuses errors the template, with a warning.
func TestRefusedScaleErrorsTheTemplate(t *testing.T) {
	f := newFixture(t, nil, newExperiment())
	f.reconcile()
	f.sync()
	f.kube.PrependReactor("update", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "exp-canary", errDenied)
	})
	f.reconcile()
	ts := f.experiment().Status.TemplateStatusByName("canary")
	want := "Unable to scale ReplicaSet for template 'canary' to desired replica count '1': replicasets.apps \"exp-canary\" is forbidden: quota exceeded"
	if ts == nil || ts.Status != v1alpha1.TemplateStatusError || ts.Message != want {
		t.Errorf("template status %+v", ts)
	}
	if events := f.events(); !strings.Contains(events, "Warning ReplicaSetUpdateError Failed to scale exp-canary up: ") {
		t.Errorf("events:\n%s", events)
	}
}

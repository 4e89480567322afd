package main

import (
	"context"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apitypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	argofake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	"github.com/serin-dev/serin/pkg/controllermetrics"
	"github.com/serin-dev/serin/pkg/metric/job"
)

// TestAnalysisJobsOfDeletedRunsAreDeleted runs the real informers and
// controllers against fake clientsets, with analysis Jobs in their own
// namespace: the Job of a run deleted while the controller was down goes
// at start-up, and the Job of a run deleted later goes with it.
func TestAnalysisJobsOfDeletedRunsAreDeleted(t *testing.T) {
	const jobNamespace = "analysis-jobs"
	t.Setenv(job.NamespaceEnv, jobNamespace)
	smoke := v1alpha1.Metric{Name: "smoke", Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{}}}
	newRun := func(name string) *v1alpha1.AnalysisRun {
		return &v1alpha1.AnalysisRun{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: apitypes.UID("uid-" + name)},
			Spec:       v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{smoke}},
			// Completed: the AnalysisRun controller has nothing to measure.
			Status: v1alpha1.AnalysisRunStatus{Phase: v1alpha1.AnalysisPhaseSuccessful},
		}
	}
	alive, gone := newRun("alive"), newRun("gone")
	aliveJob, goneJob := job.NewJob(alive, smoke, jobNamespace), job.NewJob(gone, smoke, jobNamespace)
	kube := kubefake.NewClientset(aliveJob, goneJob)
	dyn := fakeDynamic(t, alive)
	o := parse(t, "--controllers", "analysis")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, o, clients{kube: kube, argo: argofake.NewSimpleClientset(alive), dynamic: dyn}, metav1.NamespaceAll, controllermetrics.New("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if names := controllerNames(a); !slices.Contains(names, "AnalysisJobs") {
		t.Fatalf("controllers %v, want AnalysisJobs with %s set", names, job.NamespaceEnv)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	defer func() { cancel(); <-done }()

	waitGone := func(j *batchv1.Job) {
		t.Helper()
		err := wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := kube.BatchV1().Jobs(jobNamespace).Get(ctx, j.Name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			t.Fatalf("Job %s of a deleted run is still there", j.Name)
		}
	}
	waitGone(goneJob)
	if _, err := kube.BatchV1().Jobs(jobNamespace).Get(ctx, aliveJob.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("the Job of a run that exists: %v", err)
	}

	runs := dyn.Resource(v1alpha1.SchemeGroupVersion.WithResource("analysisruns")).Namespace("shop")
	if err := runs.Delete(ctx, "alive", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(aliveJob)
}

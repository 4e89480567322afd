package analysis

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/job"
)

func TestJobMetricThroughTheReconciler(t *testing.T) {
	run := &v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{Name: "run", Namespace: "default", UID: "uid-1", ResourceVersion: "1"},
		Spec: v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{{
			Name: "smoke",
			Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			}}}},
		}}},
	}
	f := newFixture(t, run)
	kube := kubefake.NewClientset()
	jobIndex := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	provider := job.New(job.Options{Client: kube, Lister: batchlisters.NewJobLister(jobIndex), Clock: f.clock})
	f.factory.fn = func(v1alpha1.Metric) (metric.Provider, error) { return provider, nil }

	if requeue := f.reconcile(); requeue != time.Second {
		t.Fatalf("requeue %v after creating the Job, want 1s", requeue)
	}
	created, err := kube.BatchV1().Jobs("default").Get(context.Background(), "uid-1.smoke.1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := f.run().Status.MetricResults[0].Measurements[0]; m.Phase != v1alpha1.AnalysisPhaseRunning || m.FinishedAt != nil {
		t.Fatalf("measurement %+v", m)
	}

	// Still running a second later: resumed with a growing delay.
	_ = jobIndex.Add(created)
	f.clock.Step(time.Second)
	if requeue := f.reconcile(); requeue <= 0 || requeue > 2*time.Second {
		t.Fatalf("requeue %v while the Job runs", requeue)
	}

	// The Job completes. As in Argo Rollouts, the measurement is checked
	// again at its resumeAt, not earlier.
	done := created.DeepCopy()
	done.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	_ = jobIndex.Update(done)
	if r := f.run().Status.MetricResults[0].Measurements[0]; r.ResumeAt == nil {
		t.Fatal("no resumeAt")
	}
	f.clock.SetTime(f.run().Status.MetricResults[0].Measurements[0].ResumeAt.Time)
	f.reconcile()
	st := f.run().Status
	if st.Phase != v1alpha1.AnalysisPhaseSuccessful || st.MetricResults[0].Measurements[0].Metadata[job.NameKey] != "uid-1.smoke.1" {
		t.Fatalf("status %+v", st)
	}
}

package job

import (
	"context"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type fixture struct {
	client  *kubefake.Clientset
	indexer cache.Indexer
	clock   *clocktesting.FakePassiveClock
	p       *Provider
}

func newFixture(namespace string, objs ...runtime.Object) *fixture {
	f := &fixture{
		client:  kubefake.NewClientset(objs...),
		indexer: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
		clock:   clocktesting.NewFakePassiveClock(t0),
	}
	for _, o := range objs {
		_ = f.indexer.Add(o)
	}
	f.p = New(Options{Client: f.client, Lister: batchlisters.NewJobLister(f.indexer), Namespace: namespace, Clock: f.clock})
	return f
}

func testRun() *v1alpha1.AnalysisRun {
	return &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "run", Namespace: "apps", UID: "0d1e2f"}}
}

func jobMetric() v1alpha1.Metric {
	return v1alpha1.Metric{Name: "smoke", Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{
		Metadata: metav1.ObjectMeta{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"note": "n"}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "smoke"}},
			Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}},
	}}}
}

func TestRunCreatesTheJob(t *testing.T) {
	f := newFixture("")
	run := testRun()
	run.Status.MetricResults = []v1alpha1.MetricResult{{Name: "smoke", Count: 2, Error: 1}}
	got := f.p.Run(context.Background(), run, jobMetric())
	if got.Phase != v1alpha1.AnalysisPhaseRunning || got.Metadata[NameKey] != "0d1e2f.smoke.4" || got.Metadata[NamespaceKey] != "apps" {
		t.Fatalf("%+v", got)
	}
	if got.ResumeAt == nil || !got.ResumeAt.Time.Equal(t0) {
		t.Errorf("resumeAt %v", got.ResumeAt)
	}
	job, err := f.client.BatchV1().Jobs("apps").Get(context.Background(), "0d1e2f.smoke.4", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{"team": "a", v1alpha1.LabelAnalysisRunUID: "0d1e2f"}
	for k, v := range wantLabels {
		if job.Labels[k] != v {
			t.Errorf("label %s = %q", k, job.Labels[k])
		}
	}
	for k, v := range map[string]string{"note": "n", v1alpha1.AnnotationAnalysisRunName: "run", v1alpha1.AnnotationAnalysisRunNamespace: "apps", v1alpha1.AnnotationAnalysisRunMetric: "smoke"} {
		if job.Annotations[k] != v {
			t.Errorf("annotation %s = %q", k, job.Annotations[k])
		}
	}
	if job.Spec.Template.Labels[v1alpha1.LabelAnalysisRunUID] != "0d1e2f" || job.Spec.Template.Labels["app"] != "smoke" {
		t.Errorf("pod labels %v", job.Spec.Template.Labels)
	}
	ref := metav1.GetControllerOf(job)
	if ref == nil || ref.Kind != "AnalysisRun" || ref.APIVersion != "argoproj.io/v1alpha1" || ref.UID != "0d1e2f" || ref.Name != "run" {
		t.Errorf("owner %+v", ref)
	}
	if jobMetric().Provider.Job.Spec.Template.Labels[v1alpha1.LabelAnalysisRunUID] != "" {
		t.Error("the metric's spec was modified")
	}
}

func TestRunInAnotherNamespaceHasNoOwner(t *testing.T) {
	f := newFixture("jobs")
	got := f.p.Run(context.Background(), testRun(), jobMetric())
	if got.Metadata[NamespaceKey] != "jobs" {
		t.Fatalf("%+v", got)
	}
	job, err := f.client.BatchV1().Jobs("jobs").Get(context.Background(), got.Metadata[NameKey], metav1.GetOptions{})
	if err != nil || len(job.OwnerReferences) != 0 {
		t.Fatalf("%v %+v", err, job)
	}
}

func TestRunAdoptsItsOwnExistingJob(t *testing.T) {
	run := testRun()
	existing := NewJob(run, jobMetric(), "")
	f := newFixture("", existing)
	if got := f.p.Run(context.Background(), run, jobMetric()); got.Phase != v1alpha1.AnalysisPhaseRunning || got.Metadata[NameKey] != existing.Name {
		t.Errorf("own job: %+v", got)
	}
	other := testRun()
	other.UID = "0d1e2f" // same name, but the existing Job says another run made it
	existing.Labels[v1alpha1.LabelAnalysisRunUID] = "someone-else"
	f = newFixture("", existing)
	if got := f.p.Run(context.Background(), other, jobMetric()); got.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("foreign job: %+v", got)
	}
}

// ownName is the name of the first Job of testRun's metric smoke.
const ownName = "0d1e2f.smoke.1"

func jobWith(name string, created time.Time, conds ...batchv1.JobConditionType) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "apps", CreationTimestamp: metav1.NewTime(created),
		Labels:      map[string]string{v1alpha1.LabelAnalysisRunUID: "0d1e2f"},
		Annotations: map[string]string{v1alpha1.AnnotationAnalysisRunMetric: "smoke"},
	}}
	for _, c := range conds {
		j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: c, Status: corev1.ConditionTrue})
	}
	return j
}

func inFlight(name string) v1alpha1.Measurement {
	started := metav1.NewTime(t0)
	return v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, StartedAt: &started, Metadata: map[string]string{NameKey: name, NamespaceKey: "apps"}}
}

func TestResume(t *testing.T) {
	tests := map[string]struct {
		job         *batchv1.Job
		inCache     bool
		wantPhase   v1alpha1.AnalysisPhase
		wantResume  time.Duration
		wantMessage string
	}{
		"a completed Job is Successful":  {job: jobWith(ownName, t0, batchv1.JobComplete), inCache: true, wantPhase: v1alpha1.AnalysisPhaseSuccessful},
		"a failed Job is Failed":         {job: jobWith(ownName, t0, batchv1.JobFailed), inCache: true, wantPhase: v1alpha1.AnalysisPhaseFailed},
		"a running Job is resumed later": {job: jobWith(ownName, t0), inCache: true, wantPhase: v1alpha1.AnalysisPhaseRunning, wantResume: 50*time.Second + 10*time.Second},
		"a Job not yet cached is read":   {job: jobWith(ownName, t0, batchv1.JobComplete), wantPhase: v1alpha1.AnalysisPhaseSuccessful},
		"a missing Job is an error":      {wantPhase: v1alpha1.AnalysisPhaseError, wantMessage: "not found"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var objs []runtime.Object
			if tt.job != nil {
				objs = append(objs, tt.job)
			}
			f := newFixture("", objs...)
			if !tt.inCache && tt.job != nil {
				_ = f.indexer.Delete(tt.job)
			}
			f.clock.SetTime(t0.Add(50 * time.Second)) // sqrt(2*50s) = 10s
			got := f.p.Resume(context.Background(), testRun(), jobMetric(), inFlight(ownName))
			if got.Phase != tt.wantPhase || !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("%+v", got)
			}
			if tt.wantResume > 0 && (got.ResumeAt == nil || !got.ResumeAt.Time.Equal(t0.Add(tt.wantResume))) {
				t.Errorf("resumeAt %v, want %v", got.ResumeAt, t0.Add(tt.wantResume))
			}
			if got.Phase.Completed() && got.ResumeAt != nil {
				t.Error("a finished measurement keeps a resumeAt")
			}
		})
	}
}

func TestResumeNoticesAPodThatCannotStart(t *testing.T) {
	j := jobWith(ownName, t0)
	j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/job-name": ownName}}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: ownName + "-abcde", Namespace: "apps", Labels: map[string]string{"batch.kubernetes.io/job-name": ownName}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: "c", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}},
		}}},
	}
	f := newFixture("", j)
	pods := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	_ = pods.Add(pod)
	f.p.o.Pods = corelisters.NewPodLister(pods)
	got := f.p.Resume(context.Background(), testRun(), jobMetric(), inFlight(ownName))
	if got.Phase != v1alpha1.AnalysisPhaseInconclusive || got.Message != "Pod "+ownName+"-abcde, container c has terminal error (ImagePullBackOff): Back-off pulling image" {
		t.Errorf("%+v", got)
	}
}

func TestTerminateDeletesTheJob(t *testing.T) {
	f := newFixture("", jobWith(ownName, t0))
	got := f.p.Terminate(context.Background(), testRun(), jobMetric(), inFlight(ownName))
	if got.Phase != v1alpha1.AnalysisPhaseInconclusive {
		t.Errorf("%+v", got)
	}
	if _, err := f.client.BatchV1().Jobs("apps").Get(context.Background(), ownName, metav1.GetOptions{}); err == nil {
		t.Error("job still exists")
	}
	if got := f.p.Terminate(context.Background(), testRun(), jobMetric(), inFlight(ownName)); got.Phase != v1alpha1.AnalysisPhaseInconclusive {
		t.Errorf("an already deleted Job: %+v", got)
	}
}

func TestGarbageCollectKeepsTheNewest(t *testing.T) {
	other := jobWith("other-metric", t0)
	other.Annotations[v1alpha1.AnnotationAnalysisRunMetric] = "another"
	f := newFixture("", jobWith("0d1e2f.smoke.1", t0), jobWith("0d1e2f.smoke.2", t0.Add(time.Minute)), jobWith("0d1e2f.smoke.3", t0.Add(2*time.Minute)), other)
	if err := f.p.GarbageCollect(context.Background(), testRun(), jobMetric(), 2); err != nil {
		t.Fatal(err)
	}
	list, _ := f.client.BatchV1().Jobs("apps").List(context.Background(), metav1.ListOptions{})
	var names []string
	for _, j := range list.Items {
		names = append(names, j.Name)
	}
	if strings.Join(names, ",") != "0d1e2f.smoke.2,0d1e2f.smoke.3,other-metric" {
		t.Errorf("left %v", names)
	}
}

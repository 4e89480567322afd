package job

import (
	"context"
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

const jobNS = "analysis-jobs"

type orphanFixture struct {
	client *kubefake.Clientset
	jobs   cache.Indexer
	runs   cache.Indexer
	c      *OrphanCollector
}

func newOrphanFixture(o OrphanOptions, runs []*v1alpha1.AnalysisRun, jobs ...*batchv1.Job) *orphanFixture {
	var objs []runtime.Object
	f := &orphanFixture{
		jobs: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
		runs: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
	}
	for _, j := range jobs {
		objs = append(objs, j)
		_ = f.jobs.Add(j)
	}
	for _, r := range runs {
		_ = f.runs.Add(r)
	}
	f.client = kubefake.NewClientset(objs...)
	o.Client, o.Jobs, o.Runs = f.client, batchlisters.NewJobLister(f.jobs), rolloutlisters.NewAnalysisRunLister(f.runs)
	if o.Namespace == "" {
		o.Namespace = jobNS
	}
	f.c = NewOrphanCollector(o)
	return f
}

// jobOf is the Job the provider makes for run in the analysis Job
// namespace.
func jobOf(run *v1alpha1.AnalysisRun) *batchv1.Job {
	j := NewJob(run, jobMetric(), jobNS)
	j.UID = "job-" + run.UID
	return j
}

func (f *orphanFixture) reconcileAll(t *testing.T) {
	t.Helper()
	for _, key := range f.jobs.ListKeys() {
		name, err := cache.ParseObjectName(key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.Reconcile(context.Background(), name); err != nil {
			t.Fatalf("Reconcile %s: %v", key, err)
		}
	}
}

func (f *orphanFixture) left(t *testing.T) []string {
	t.Helper()
	list, err := f.client.BatchV1().Jobs("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range list.Items {
		names = append(names, j.Namespace+"/"+j.Annotations[v1alpha1.AnnotationAnalysisRunName])
	}
	slices.Sort(names)
	return names
}

func TestOrphanCollectorDeletesTheJobsOfRunsThatAreGone(t *testing.T) {
	alive := testRun()
	gone := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "gone", Namespace: "apps", UID: "uid-gone"}}
	// A run deleted and created again under the same name: the Jobs of the
	// first one are orphans.
	before := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "again", Namespace: "apps", UID: "uid-before"}}
	again := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "again", Namespace: "apps", UID: "uid-again"}}
	// In the run's namespace the Job has an owner reference: Kubernetes'
	// garbage collector removes it, not this collector.
	owned := NewJob(gone, jobMetric(), "")
	f := newOrphanFixture(OrphanOptions{}, []*v1alpha1.AnalysisRun{alive, again},
		jobOf(alive), jobOf(gone), jobOf(before), jobOf(again), owned)

	f.reconcileAll(t)

	want := []string{"analysis-jobs/again", "analysis-jobs/run", "apps/gone"}
	if got := f.left(t); !slices.Equal(got, want) {
		t.Errorf("Jobs left %v, want %v", got, want)
	}
}

func TestOrphanCollectorLeavesWhatItCannotJudge(t *testing.T) {
	otherInstance := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "blue", Namespace: "apps", UID: "uid-blue",
		Labels: map[string]string{v1alpha1.LabelControllerInstanceID: "blue"}}}
	unwatched := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "other-team", UID: "uid-elsewhere"}}
	noAnnotations := jobOf(&v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "apps", UID: "uid-bare"}})
	delete(noAnnotations.Annotations, v1alpha1.AnnotationAnalysisRunName)
	elsewhere := jobOf(&v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "not-the-job-namespace", Namespace: "apps", UID: "uid-x"}})
	elsewhere.Namespace = "apps-jobs"
	f := newOrphanFixture(OrphanOptions{RunNamespace: "apps"}, nil,
		jobOf(otherInstance), jobOf(unwatched), noAnnotations, elsewhere)

	f.reconcileAll(t)

	if got := f.left(t); len(got) != 4 {
		t.Errorf("Jobs left %v, want all four: none of their runs is this controller's to judge", got)
	}
}

func TestOrphanCollectorMapsADeletedRunToItsJobs(t *testing.T) {
	run, other := testRun(), &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "apps", UID: "uid-other"}}
	second := jobOf(run)
	second.Name += "-2"
	f := newOrphanFixture(OrphanOptions{}, nil, jobOf(run), second, jobOf(other))
	var got []string
	for _, key := range f.c.JobsOfRun(cache.DeletedFinalStateUnknown{Key: "apps/run", Obj: run}) {
		got = append(got, key.String())
	}
	slices.Sort(got)
	want := []string{jobNS + "/" + jobOf(run).Name, jobNS + "/" + second.Name}
	if !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if !f.c.Judges(jobOf(run)) || f.c.Judges(NewJob(run, jobMetric(), "")) {
		t.Error("Judges: want the Jobs of the analysis Job namespace without an owner, only")
	}
}

func TestJobsCarryTheRunsInstanceID(t *testing.T) {
	run := testRun()
	m := jobMetric()
	m.Provider.Job.Metadata.Labels[v1alpha1.LabelControllerInstanceID] = "forged"
	if got, ok := NewJob(run, m, jobNS).Labels[v1alpha1.LabelControllerInstanceID]; ok {
		t.Errorf("instance-id label %q on the Job of a run without one", got)
	}
	run.Labels = map[string]string{v1alpha1.LabelControllerInstanceID: "blue"}
	if got := NewJob(run, m, jobNS).Labels[v1alpha1.LabelControllerInstanceID]; got != "blue" {
		t.Errorf("instance-id label %q, want the run's", got)
	}
}

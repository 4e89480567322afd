package job

import (
	"context"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// longRun has a uid as long as the API server's, so that a 25-character
// metric name makes a Job name one character too long.
func longRun() *v1alpha1.AnalysisRun {
	run := testRun()
	run.UID = "6f9b9c5e-9d1c-4a53-9b2c-2a1f3f7c8d10"
	return run
}

func namedMetric(name string) v1alpha1.Metric {
	m := jobMetric()
	m.Name = name
	return m
}

func TestShortenedNamesOfTwoMetricsDoNotCollide(t *testing.T) {
	f := newFixture("")
	run := longRun()
	v1 := f.p.Run(context.Background(), run, namedMetric("http-error-rate-canary-v1"))
	v2 := f.p.Run(context.Background(), run, namedMetric("http-error-rate-canary-v2"))
	if v1.Phase != v1alpha1.AnalysisPhaseRunning || v2.Phase != v1alpha1.AnalysisPhaseRunning {
		t.Fatalf("v1 %+v, v2 %+v", v1, v2)
	}
	if v1.Metadata[NameKey] == v2.Metadata[NameKey] {
		t.Fatalf("both metrics measured by Job %s", v1.Metadata[NameKey])
	}
	for metric, meas := range map[string]v1alpha1.Measurement{"http-error-rate-canary-v1": v1, "http-error-rate-canary-v2": v2} {
		name := meas.Metadata[NameKey]
		if len(name) > maxNameLength {
			t.Errorf("%s: name %q is %d characters long", metric, name, len(name))
		}
		job, err := f.client.BatchV1().Jobs("apps").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := job.Annotations[v1alpha1.AnnotationAnalysisRunMetric]; got != metric {
			t.Errorf("Job %s of metric %s is annotated with metric %q", name, metric, got)
		}
	}
}

func TestJobNames(t *testing.T) {
	run := longRun()
	long := "a-very-long-metric-name-that-goes-on-and-on"
	name := jobName(run.UID, long, 1)
	if len(name) > maxNameLength || !strings.HasPrefix(name, string(run.UID)+".a-very") || !strings.HasSuffix(name, ".1") {
		t.Errorf("%q (%d)", name, len(name))
	}
	if again := jobName(run.UID, long, 1); again != name {
		t.Errorf("not deterministic: %q, then %q", name, again)
	}
	if other := jobName(run.UID, long+"-and-on", 1); other == name {
		t.Errorf("two metrics share the name %q", name)
	}
	if got := jobName(run.UID, "smoke", 12); got != string(run.UID)+".smoke.12" {
		t.Errorf("a name that fits is %q, want <uid>.<metric>.<n>", got)
	}
	// A shortened name stays a DNS subdomain: no label starts or ends with
	// a dash.
	dotted := jobName(run.UID, "aaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbb", 1)
	if strings.Contains(dotted, ".-") || strings.Contains(dotted, "-.") || len(dotted) > maxNameLength {
		t.Errorf("%q", dotted)
	}
}

func TestRunDoesNotAdoptTheJobOfAnotherMetric(t *testing.T) {
	run := testRun()
	other := NewJob(run, jobMetric(), "")
	other.Annotations[v1alpha1.AnnotationAnalysisRunMetric] = "another-metric"
	f := newFixture("", other)
	if got := f.p.Run(context.Background(), run, jobMetric()); got.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("a Job of the same name made for another metric was adopted: %+v", got)
	}
}

func TestResumeReadsOnlyTheJobOfThisMetric(t *testing.T) {
	j := jobWith("0d1e2f.smoke.1", t0, batchv1.JobComplete)
	j.Annotations[v1alpha1.AnnotationAnalysisRunMetric] = "another-metric"
	j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue})
	f := newFixture("", j)
	got := f.p.Resume(context.Background(), testRun(), jobMetric(), inFlight("0d1e2f.smoke.1"))
	if got.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("the result of another metric's Job was reported: %+v", got)
	}
}

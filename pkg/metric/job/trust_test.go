package job

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// The measurement metadata naming a Job lives in the AnalysisRun's status,
// which anyone who may edit the run can write. These tests forge it.

// victim is a Job outside the run's namespaces that even carries the
// run's labels, as someone could have made it to look like the run's.
func victim() *batchv1.Job {
	j := jobWith("coredns-cleanup", t0)
	j.Namespace = "kube-system"
	return j
}

func forged(namespace, name string) v1alpha1.Measurement {
	m := inFlight(name)
	m.Metadata[NamespaceKey] = namespace
	return m
}

func exists(t *testing.T, f *fixture, namespace, name string) bool {
	t.Helper()
	_, err := f.client.BatchV1().Jobs(namespace).Get(context.Background(), name, metav1.GetOptions{})
	return err == nil
}

func TestTerminateIgnoresAForgedJobReference(t *testing.T) {
	for _, jobNamespace := range []string{"", "analysis-jobs"} {
		t.Run("job namespace "+jobNamespace, func(t *testing.T) {
			real := jobWith("0d1e2f.smoke.1", t0)
			if jobNamespace != "" {
				real.Namespace = jobNamespace
			}
			unrelated := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "nightly-backup", Namespace: "apps"}}
			f := newFixture(jobNamespace, victim(), real, unrelated)
			for _, ref := range []v1alpha1.Measurement{forged("kube-system", "coredns-cleanup"), forged("apps", "nightly-backup")} {
				got := f.p.Terminate(context.Background(), testRun(), jobMetric(), ref)
				if got.Phase != v1alpha1.AnalysisPhaseInconclusive {
					t.Errorf("%v: %+v", ref.Metadata, got)
				}
			}
			if !exists(t, f, "kube-system", "coredns-cleanup") || !exists(t, f, "apps", "nightly-backup") {
				t.Error("a forged reference deleted a Job that is not the run's")
			}
			if exists(t, f, real.Namespace, real.Name) {
				t.Error("the run's own in-flight Job was not deleted")
			}
		})
	}
}

func TestTerminateDeletesAJobNotCachedYetByItsName(t *testing.T) {
	real := jobWith("0d1e2f.smoke.1", t0)
	f := newFixture("", real)
	_ = f.indexer.Delete(real)
	got := f.p.Terminate(context.Background(), testRun(), jobMetric(), inFlight(real.Name))
	if got.Phase != v1alpha1.AnalysisPhaseInconclusive || exists(t, f, "apps", real.Name) {
		t.Errorf("%+v; job still there: %v", got, exists(t, f, "apps", real.Name))
	}
}

func TestTerminateDeletesAnUncachedJobOnlyIfItCarriesTheRunsLabels(t *testing.T) {
	impostor := jobWith("0d1e2f.smoke.1", t0)
	impostor.Labels = nil
	f := newFixture("", impostor)
	_ = f.indexer.Delete(impostor)
	f.p.Terminate(context.Background(), testRun(), jobMetric(), inFlight(impostor.Name))
	if !exists(t, f, "apps", impostor.Name) {
		t.Error("a Job with the run's Job name but not its uid label was deleted")
	}
}

func TestResumeIgnoresAForgedJobReference(t *testing.T) {
	done := victim()
	done.Status.Conditions = jobWith("x", t0, batchv1.JobComplete).Status.Conditions
	f := newFixture("", done)
	got := f.p.Resume(context.Background(), testRun(), jobMetric(), forged("kube-system", "coredns-cleanup"))
	if got.Phase != v1alpha1.AnalysisPhaseError {
		t.Errorf("a Job outside the run's namespaces was read: %+v", got)
	}
	if len(f.client.Actions()) != 0 {
		t.Errorf("API requests for a forged reference: %v", f.client.Actions())
	}
}

func TestGarbageCollectTouchesOnlyTheRunsNamespaces(t *testing.T) {
	elsewhere := jobWith("0d1e2f.smoke.1", t0)
	elsewhere.Namespace = "elsewhere"
	f := newFixture("", elsewhere, jobWith("0d1e2f.smoke.2", t0.Add(time.Minute)))
	if err := f.p.GarbageCollect(context.Background(), testRun(), jobMetric(), 0); err != nil {
		t.Fatal(err)
	}
	if !exists(t, f, "elsewhere", "0d1e2f.smoke.1") {
		t.Error("a Job in a namespace the run makes no Jobs in was deleted")
	}
	if exists(t, f, "apps", "0d1e2f.smoke.2") {
		t.Error("the run's own Job was kept")
	}
}

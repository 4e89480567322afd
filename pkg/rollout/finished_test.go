package rollout

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controllermetrics"
)

// finishedFixture is a first deploy of demoRollout, one reconcile in, with
// every report of a finished update collected.
func finishedFixture(t *testing.T) (*fixture, *[]v1alpha1.RolloutDurationStatus) {
	f := newFixture(t, demoRollout())
	var reported []v1alpha1.RolloutDurationStatus
	f.r.o.UpdateFinished = func(d v1alpha1.RolloutDurationStatus) { reported = append(reported, d) }
	f.reconcile("demo")
	catchUp(t, f)
	if len(reported) != 0 {
		t.Fatalf("reported %d finished updates before the pods were available", len(reported))
	}
	return f, &reported
}

func TestAFinishedUpdateIsReportedOnceWithTheRecordTheStatusHolds(t *testing.T) {
	f, reported := finishedFixture(t)
	f.reconcile("demo") // the pods are available: the first deploy is done
	written := apiRollout(t, f).Status.Duration
	if len(*reported) != 1 || written == nil || written.FinishedAt == nil {
		t.Fatalf("reported %d finished updates, status.duration %+v; want 1 and a finished record", len(*reported), written)
	}
	got := (*reported)[0]
	if *got.CompletionStatus != v1alpha1.CompletionStatusPromoted || !got.FinishedAt.Equal(written.FinishedAt) ||
		!got.RolloutStartedAt.Equal(written.RolloutStartedAt) {
		t.Fatalf("reported %+v, the status holds %+v", got, *written)
	}
	for i := 0; i < 3; i++ {
		catchUp(t, f)
		f.reconcile("demo")
	}
	if len(*reported) != 1 {
		t.Fatalf("reported %d finished updates after more reconciles, want still 1", len(*reported))
	}
}

func TestAFinishedUpdateWhoseStatusWriteFailsIsReportedByTheReconcileThatRedoesIt(t *testing.T) {
	f, reported := finishedFixture(t)
	fail := true
	f.rollouts.PrependReactor("patch", "rollouts", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() == "status" && fail {
			fail = false
			return true, nil, apierrors.NewInternalError(errors.New("etcd is down"))
		}
		return false, nil, nil
	})
	if _, err := f.r.Reconcile(context.Background(), demoKey); err == nil {
		t.Fatal("the failed status write was not reported as an error")
	}
	if len(*reported) != 0 {
		t.Fatalf("reported %d finished updates whose status was not written", len(*reported))
	}
	f.reconcile("demo")
	if len(*reported) != 1 || apiRollout(t, f).Status.Duration.FinishedAt == nil {
		t.Fatalf("reported %d finished updates after the write succeeded, want 1", len(*reported))
	}
}

// Wired to the controller's metrics, as serin-controller wires it, a first
// deploy is scraped once as a Promoted update, however often it is
// reconciled afterwards.
func TestAFinishedUpdateIsScrapedOnceFromTheDurationMetrics(t *testing.T) {
	m := controllermetrics.New("test")
	f := newFixture(t, demoRollout())
	f.r.o.UpdateFinished = m.ObserveRolloutDuration
	for i := 0; i < 4; i++ {
		f.reconcile("demo")
		catchUp(t, f)
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, fam := range families {
		if strings.HasSuffix(fam.GetName(), "duration_seconds") && strings.HasPrefix(fam.GetName(), "rollout_") {
			for _, s := range fam.GetMetric() {
				counts[fam.GetName()+"/"+s.GetLabel()[0].GetValue()] += s.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]uint64{
		"rollout_duration_seconds/Promoted":              1,
		"rollout_progression_duration_seconds/Promoted":  1,
		"rollout_manual_pause_duration_seconds/Promoted": 1,
	}
	if !maps.Equal(counts, want) {
		t.Fatalf("observations %v, want %v", counts, want)
	}
}

package tolerant

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestAMalformedObjectIsReportedOncePerVersion(t *testing.T) {
	rec := record.NewFakeRecorder(10)
	report := EventReporter(rec, klog.Background())
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "apps", UID: "u1", ResourceVersion: "5"}}
	dropped := []Dropped{{Path: "spec.replicas", Reason: "cannot unmarshal string into int32"}}
	report(ro, dropped)
	report(ro, dropped) // a relist of the same version
	ro.ResourceVersion = "6"
	report(ro, dropped) // the user edited it, still malformed
	close(rec.Events)
	var got []string
	for e := range rec.Events {
		got = append(got, e)
	}
	if len(got) != 2 {
		t.Fatalf("%d events, want one per version: %v", len(got), got)
	}
	if !strings.HasPrefix(got[0], "Warning MalformedObject ") || !strings.Contains(got[0], "spec.replicas: cannot unmarshal") {
		t.Fatalf("event %q", got[0])
	}
}

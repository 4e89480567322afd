package rollout

import (
	"context"
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8stesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// feedBack copies what the fake clients hold into the listers, as the
// informers would, with every ReplicaSet's pods up and available.
func (f *fixture) feedBack(name string) *v1alpha1.Rollout {
	f.t.Helper()
	ctx := context.Background()
	ro, err := f.rollouts.ArgoprojV1alpha1().Rollouts("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	_ = f.roIndex.Update(ro)
	rss, _ := f.kube.AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{})
	for i := range rss.Items {
		rs := rss.Items[i].DeepCopy()
		n := *rs.Spec.Replicas
		rs.Status = appsv1.ReplicaSetStatus{Replicas: n, ReadyReplicas: n, AvailableReplicas: n, ObservedGeneration: rs.Generation}
		_ = f.rsIndex.Update(rs)
	}
	return ro
}

// statusPatches returns the status fields of each status patch sent.
func (f *fixture) statusPatches() []map[string]any {
	var out []map[string]any
	for _, a := range f.rollouts.Actions() {
		if p, ok := a.(k8stesting.PatchAction); ok && p.GetSubresource() == "status" {
			var body map[string]map[string]any
			if err := json.Unmarshal(p.GetPatch(), &body); err != nil {
				f.t.Fatal(err)
			}
			out = append(out, body["status"])
		}
	}
	return out
}

func TestTheWriteThatCompletesAStepStartsTheNextPause(t *testing.T) {
	ro := demoRollout()
	one, pause := int32(1), intstr.FromString("30s")
	ro.Spec.Replicas = &one
	ro.Spec.Strategy.Canary.Steps[1].Pause.Duration = &pause
	f := newFixture(t, ro)
	for range 5 {
		f.reconcile("demo")
		ro = f.feedBack("demo")
	}
	ro.Spec.Template.Spec.Containers[0].Image = "demo:v2"
	ro.Generation = 2
	if _, err := f.rollouts.ArgoprojV1alpha1().Rollouts("default").Update(context.Background(), ro, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.feedBack("demo")
	f.rollouts.ClearActions()
	for range 8 {
		f.reconcile("demo")
		ro = f.feedBack("demo")
	}
	if ro.Status.Phase != v1alpha1.RolloutPhasePaused || ro.Status.CurrentStepIndex == nil || *ro.Status.CurrentStepIndex != 1 {
		t.Fatalf("phase %s step %v, want paused on step 1", ro.Status.Phase, ro.Status.CurrentStepIndex)
	}
	for _, st := range f.statusPatches() {
		if st["currentStepIndex"] == float64(1) && st["pauseConditions"] == nil {
			t.Errorf("a status patch completed the setWeight step without starting the pause: %v", st)
		}
	}
}

package plan

import (
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// registration stands in for the reconciler's registration check: the
// Service alb.TargetsService names has one target, registered once
// registered is true.
type registration struct {
	registered bool
	asked      []string
}

func (r *registration) answer(st State) *TargetVerification {
	ro := st.Rollout
	old := false
	for _, rs := range st.ReplicaSets {
		_, deadline := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]
		old = old || (rs.Labels[v1alpha1.LabelPodTemplateHash] != ro.Status.CurrentPodHash && rsReplicas(rs) > 0 && !deadline)
	}
	active := ""
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil && st.Services[bg.ActiveService] != nil {
		active = st.Services[bg.ActiveService].Spec.Selector[v1alpha1.LabelPodTemplateHash]
	}
	svc := alb.TargetsService(ro, active, old)
	if svc == "" {
		return &TargetVerification{} // verification on, nothing to check now
	}
	r.asked = append(r.asked, svc)
	o := alb.TargetsObservation{Service: svc, Binding: alb.Binding{Name: "tgb", TargetGroupARN: "arn:tg/1"}, Expected: []string{"10.0.0.1:8080"}}
	if r.registered {
		o.Registered = o.Expected
	}
	return &TargetVerification{Observations: []alb.TargetsObservation{o}, RetryInterval: 5 * time.Second}
}

func TestPromotedALBCanaryKeepsTheOldPodsUntilTheNewAreRegistered(t *testing.T) {
	w := albWorld(t, false, setWeight(50), pauseFor(""))
	reg := &registration{}
	w.targets = reg.answer
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.promote()
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	// Promoted, but the target group does not list the new pods yet: the
	// old pods keep their count and get no scale-down deadline.
	w.advance(time.Minute)
	w.settle()
	w.expectReplicas(map[string]int32{"rev1": 5, "rev2": 5})
	w.expectEvent(alb.ReasonUnverified)
	if len(reg.asked) == 0 || reg.asked[0] != "demo-stable" || w.last.RequeueAfter != 5*time.Second {
		t.Fatalf("asked about %v, requeue %v; want demo-stable and the retry interval", reg.asked, w.last.RequeueAfter)
	}
	reg.registered = true
	w.settle()
	w.expectEvent(alb.ReasonVerified)
	w.advance(31 * time.Second)
	w.settle()
	w.expectReplicas(map[string]int32{"rev2": 5})
}

func TestBlueGreenIsNotPromotedUntilTheActiveServicesPodsAreRegistered(t *testing.T) {
	w := blueGreenWorld(t, nil)
	reg := &registration{}
	w.targets = reg.answer
	w.settleWatchingActive()
	blue := w.hash()
	w.setImage("demo:v2")
	w.settleWatchingActive()
	if got := w.serviceHashes()["active"]; got != w.hash() {
		t.Fatalf("active selects %s, want the new revision", got)
	}
	if w.ro.Status.StableRS != blue {
		t.Fatalf("stable moved to %s before the new pods were registered", w.ro.Status.StableRS)
	}
	reg.registered = true
	w.settleWatchingActive()
	if w.ro.Status.StableRS != w.hash() {
		t.Fatalf("stable %s, want %s once registered", w.ro.Status.StableRS, w.hash())
	}
}

func TestPostPromotionAnalysisStartsOnceTheActivePodsAreRegistered(t *testing.T) {
	w := blueGreenWorld(t, prePost(false, true))
	w.addTemplate("success-rate")
	reg := &registration{}
	w.targets = reg.answer
	w.settleWatchingActive()
	w.setImage("demo:v2")
	w.settleWatchingActive()
	if w.services["active"].Spec.Selector[v1alpha1.LabelPodTemplateHash] != w.hash() {
		t.Fatal("the switch happens before post-promotion analysis")
	}
	if len(w.runs) != 0 {
		t.Fatalf("post-promotion analysis started before the new pods were registered: %d runs", len(w.runs))
	}
	reg.registered = true
	w.settleWatchingActive()
	if len(w.runs) != 1 {
		t.Fatalf("%d runs once registered, want the post-promotion run", len(w.runs))
	}
}

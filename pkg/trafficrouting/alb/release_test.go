package alb

import (
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

func TestReleaseGivesTheIngressBackAsArgoRolloutsResetsIt(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	ro.Spec.Strategy.Canary.TrafficRouting.ALB.StickinessConfig = &v1alpha1.StickinessConfig{Enabled: true, DurationSeconds: 60}
	r := New("").(*Router)
	d := desired(40)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{*ro.Spec.Strategy.Canary.Steps[1].SetHeaderRoute}
	w, err := r.Plan(ro, observedIngress(t, albIngress), d)
	if err != nil {
		t.Fatal(err)
	}
	ing := w.Updates[0].Unstructured
	a := ing.GetAnnotations()
	a[ManagedAnnotations] = `{"api":["alb.ingress.kubernetes.io/actions.api"],"web":["alb.ingress.kubernetes.io/actions.web-stable","alb.ingress.kubernetes.io/actions.beta","alb.ingress.kubernetes.io/conditions.beta"]}`
	a[ManagedActions] = "web:web-stable"
	ing.SetAnnotations(a)
	if got := ManagedBy(ing); len(got) != 2 || got[0] != "api" || got[1] != "web" {
		t.Fatalf("managed by %v", got)
	}
	out, changed := r.Release(ing, []string{"web", "gone"})
	if !changed {
		t.Fatal("nothing released")
	}
	got := out.GetAnnotations()
	want := `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-stable","ServicePort":"80","Weight":100}],"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":60}}}`
	if got["alb.ingress.kubernetes.io/actions.web-stable"] != want {
		t.Fatalf("reset action\n got %s\nwant %s", got["alb.ingress.kubernetes.io/actions.web-stable"], want)
	}
	if _, ok := got["alb.ingress.kubernetes.io/conditions.beta"]; ok {
		t.Fatal("the header route's condition stayed")
	}
	if _, ok := got["alb.ingress.kubernetes.io/actions.beta"]; ok {
		t.Fatal("the header route's action stayed")
	}
	if got[ManagedAnnotations] != `{"api":["alb.ingress.kubernetes.io/actions.api"]}` || got[ManagedActions] != "" {
		t.Fatalf("bookkeeping %q / %q", got[ManagedAnnotations], got[ManagedActions])
	}
	if trtest.Canonical(t, out.Object["spec"]) != trtest.Canonical(t, trtest.Obj(t, albIngress).Object["spec"]) {
		t.Fatalf("the header route's path stayed:\n%s", trtest.Canonical(t, out.Object["spec"]))
	}
	out2, _ := r.Release(out, []string{"api"})
	if _, ok := out2.GetAnnotations()[ManagedAnnotations]; ok {
		t.Fatal("an empty managed-alb-annotations was kept")
	}
	if _, changed := r.Release(out2, []string{"api"}); changed {
		t.Fatal("a released Ingress released again")
	}
}

func TestReleaseWithARootServiceKeepsTrafficOnTheStableService(t *testing.T) {
	ing := trtest.Obj(t, albIngress)
	ing.SetAnnotations(map[string]string{
		ManagedAnnotations:                           `{"web":["alb.ingress.kubernetes.io/actions.web-root"]}`,
		"alb.ingress.kubernetes.io/actions.web-root": `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80","Weight":30},{"ServiceName":"web-stable","ServicePort":"80","Weight":70}]}}`,
	})
	out, changed := New("").(*Router).Release(ing, []string{"web"})
	want := `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-stable","ServicePort":"80","Weight":100}]}}`
	if !changed || out.GetAnnotations()["alb.ingress.kubernetes.io/actions.web-root"] != want {
		t.Fatalf("changed %v, action %s; want %s", changed, out.GetAnnotations()["alb.ingress.kubernetes.io/actions.web-root"], want)
	}
	if trtest.Canonical(t, out.Object["spec"]) != trtest.Canonical(t, ing.Object["spec"]) {
		t.Fatal("the Ingress's rules changed")
	}
}

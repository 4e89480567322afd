package istio

import (
	"slices"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

func routeNames(t *testing.T, routes []any) []string {
	var names []string
	for _, rt := range routes {
		names = append(names, routeName(rt))
	}
	return names
}

func TestInstalledManagedRoutesAreRecordedAndReleased(t *testing.T) {
	ro := trtest.Rollout(t, managedRollout)
	d := hostDesired(20)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{headerRoute()}
	d.MirrorRoutes = []v1alpha1.SetMirrorRoute{mirrorRoute()}
	got := planOnce(t, ro, observe(trtest.Obj(t, hostVS)), d)

	rec := RecordedRoutes(got)
	if want := []string{"mirror-posts", "canary-header"}; !slices.Equal(rec["prod/shop"], want) {
		t.Fatalf("record %v, want prod/shop: %v", rec, want)
	}

	released, changed := ReleaseVirtualService(got, []string{"prod/shop"})
	if !changed {
		t.Fatal("releasing a Rollout's routes changed nothing")
	}
	if names := routeNames(t, httpRoutes(t, released)); !slices.Equal(names, []string{"main", "admin"}) {
		t.Fatalf("routes left: %v, want the user's main and admin", names)
	}
	if _, ok := released.GetAnnotations()[AnnotationManagedRoutes]; ok {
		t.Fatalf("the record stayed: %v", released.GetAnnotations())
	}
	if _, changed := ReleaseVirtualService(released, []string{"prod/shop"}); changed {
		t.Fatal("releasing twice changed the VirtualService again")
	}
}

func TestPromotionClearsTheRecordWithTheRoutes(t *testing.T) {
	ro := trtest.Rollout(t, managedRollout)
	d := hostDesired(20)
	d.HeaderRoutes = []v1alpha1.SetHeaderRoute{headerRoute()}
	got := planOnce(t, ro, observe(trtest.Obj(t, hostVS)), d)

	w, err := New("").Plan(ro, observe(got), hostDesired(0))
	if err != nil {
		t.Fatal(err)
	}
	if rec := RecordedRoutes(w.Updates[0].Unstructured); len(rec) != 0 {
		t.Fatalf("record left after the routes went: %v", rec)
	}
}

func TestReleaseKeepsOtherRolloutsRoutesAndUnrecordedOnes(t *testing.T) {
	vs := trtest.Obj(t, hostVS)
	recordRoutes(vs, "prod/other", []string{"admin"})
	recordRoutes(vs, "prod/shop", []string{"gone-already"})

	released, changed := ReleaseVirtualService(vs, []string{"prod/shop"})
	if !changed {
		t.Fatal("the deleted Rollout's entry was not removed")
	}
	if names := routeNames(t, httpRoutes(t, released)); !slices.Equal(names, []string{"main", "admin"}) {
		t.Fatalf("routes left: %v", names)
	}
	if rec := RecordedRoutes(released); len(rec) != 1 || rec["prod/other"] == nil {
		t.Fatalf("record %v, want only prod/other", rec)
	}
}

func TestAMalformedRecordReleasesNothing(t *testing.T) {
	vs := trtest.Obj(t, hostVS)
	vs.SetAnnotations(map[string]string{AnnotationManagedRoutes: `{"prod/shop": "main"`})
	if rec := RecordedRoutes(vs); rec != nil {
		t.Fatalf("a malformed record read as %v", rec)
	}
	if _, changed := ReleaseVirtualService(vs, []string{"prod/shop"}); changed {
		t.Fatal("a malformed record removed routes")
	}
}

func TestReleaseDestinationRule(t *testing.T) {
	ro := trtest.Rollout(t, subsetRollout)
	w, err := New("").Plan(ro, observe(trtest.Obj(t, subsetVS), trtest.Obj(t, subsetDR)), subsetDesired(20))
	if err != nil {
		t.Fatal(err)
	}
	var managed = trtest.Obj(t, subsetDR)
	for _, c := range w.Updates {
		if c.Ref.Resource.Resource == "destinationrules" {
			managed = c.Unstructured
		}
	}
	if subsetHash(managed, "canary") != "bbb222" {
		t.Fatal("the plan did not pin the canary subset")
	}

	released, changed := ReleaseDestinationRule(managed)
	if !changed {
		t.Fatal("release changed nothing")
	}
	if _, ok := released.GetAnnotations()[v1alpha1.AnnotationManagedByRollouts]; ok {
		t.Fatal("the managed-by annotation stayed")
	}
	for _, name := range []string{"stable", "canary"} {
		if h := subsetHash(released, name); h != "" {
			t.Errorf("subset %s still selects %s", name, h)
		}
	}
	trtest.EqualValue(t, released.Object["spec"], `
host: reviews.bookinfo.svc.cluster.local
trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
subsets:
- name: stable
  labels: {app: reviews}
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
- name: canary
  labels: {app: reviews}
`)
	if _, changed := ReleaseDestinationRule(released); changed {
		t.Fatal("releasing twice changed the rule again")
	}
}

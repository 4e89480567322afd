package trafficrouting

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestStableWeight(t *testing.T) {
	cases := []struct {
		d    Desired
		want int32
	}{
		{Desired{CanaryWeight: 10}, 90},
		{Desired{CanaryWeight: 10, MaxWeight: 1000}, 990},
		{Desired{CanaryWeight: 20, Additional: []v1alpha1.WeightDestination{{Weight: 5}, {Weight: 15}}}, 60},
		{Desired{CanaryWeight: 90, Additional: []v1alpha1.WeightDestination{{Weight: 20}}}, 0},
	}
	for _, c := range cases {
		if got := c.d.StableWeight(); got != c.want {
			t.Errorf("%+v: stable %d, want %d", c.d, got, c.want)
		}
	}
}

func TestManagedRouteNames(t *testing.T) {
	ro := &v1alpha1.Rollout{Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
		TrafficRouting: &v1alpha1.RolloutTrafficRouting{ManagedRoutes: []v1alpha1.ManagedRoute{{Name: "b"}, {Name: "a"}}},
		Steps: []v1alpha1.CanaryStep{
			{SetHeaderRoute: &v1alpha1.SetHeaderRoute{Name: "a"}},
			{SetMirrorRoute: &v1alpha1.SetMirrorRoute{Name: "c"}},
		},
	}}}}
	if got := strings.Join(ManagedRouteNames(ro), ","); got != "b,a,c" {
		t.Fatalf("names %s", got)
	}
}

func TestSameContentIgnoresNumberTypes(t *testing.T) {
	a := &unstructured.Unstructured{Object: map[string]any{"w": int64(10)}}
	b := &unstructured.Unstructured{Object: map[string]any{"w": float64(10)}}
	if !SameContent(a, b) {
		t.Fatal("10 and 10.0 differ")
	}
	b.Object["w"] = float64(10.5)
	if SameContent(a, b) {
		t.Fatal("10 and 10.5 are the same")
	}
}

func TestNamesPrefersTheListThenTheOneName(t *testing.T) {
	for _, c := range []struct {
		list []string
		one  string
		want []string
	}{
		{[]string{"a", "b"}, "c", []string{"a", "b"}},
		{nil, "c", []string{"c"}},
		{nil, "", nil},
		{[]string{}, "c", []string{}},
	} {
		if got := Names(c.list, c.one); !slices.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("Names(%v, %q) = %v, want %v", c.list, c.one, got, c.want)
		}
	}
}

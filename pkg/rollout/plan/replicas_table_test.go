package plan

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// The tables below pin the canary replica math, one documented behaviour per
// case. Each ReplicaSet is written as {spec.replicas, status.availableReplicas}.

// pods is a ReplicaSet's {spec.replicas, status.availableReplicas}.
type pods [2]int32

// replicaMathPtr returns a pointer to n.
func replicaMathPtr(n int32) *int32 { return &n }

// intOrPercent reads "25%" as a percentage, "3" as a pod count and "" as unset
// (so that the 25% default applies).
func intOrPercent(t *testing.T, s string) *intstr.IntOrString {
	t.Helper()
	if s == "" {
		return nil
	}
	if strings.HasSuffix(s, "%") {
		v := intstr.FromString(s)
		return &v
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("bad maxSurge/maxUnavailable %q in the table: %v", s, err)
	}
	v := intstr.FromInt32(int32(n))
	return &v
}

// sizedRS is a ReplicaSet with the given spec and available replicas.
func sizedRS(name string, p pods) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       appsv1.ReplicaSetSpec{Replicas: replicaMathPtr(p[0])},
		Status:     appsv1.ReplicaSetStatus{Replicas: p[0], AvailableReplicas: p[1]},
	}
}

// mathRollout is a canary of the given size, mid-update from "stable" to
// "canary", with the given maxSurge and maxUnavailable.
func mathRollout(t *testing.T, replicas int32, surge, unavailable string) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		Spec: v1alpha1.RolloutSpec{
			Replicas: replicaMathPtr(replicas),
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				MaxSurge:       intOrPercent(t, surge),
				MaxUnavailable: intOrPercent(t, unavailable),
			}},
		},
		Status: v1alpha1.RolloutStatus{StableRS: "stable", CurrentPodHash: "canary"},
	}
}

type basicCase struct {
	name               string
	replicas           int32
	surge, unavailable string
	weight             int32
	canary             pods
	stable             *pods // nil: there is no stable ReplicaSet
	older              []pods
	sameRS             bool // the stable ReplicaSet is the new one
	want               canaryCounts
}

var basicCases = []basicCase{
	{name: "maxSurge 25% of 10 replicas lets the canary reach 3 before the stable shrinks",
		replicas: 10, surge: "25%", unavailable: "0", weight: 30, stable: &pods{10, 10}, want: canaryCounts{3, 10}},
	{name: "maxSurge 1 and maxUnavailable 1 at 10% of 10 replicas swap one stable pod for one canary pod",
		replicas: 10, surge: "1", unavailable: "1", weight: 10, stable: &pods{10, 10}, want: canaryCounts{1, 9}},
	{name: "maxSurge 0 and maxUnavailable 5 at 30% shrink the stable to 7 before any canary pod starts",
		replicas: 10, surge: "0", unavailable: "5", weight: 30, stable: &pods{10, 10}, want: canaryCounts{0, 7}},
	{name: "maxSurge 0 and maxUnavailable 5 at 30% fill the 3 freed slots with canary pods once the stable is at 7",
		replicas: 10, surge: "0", unavailable: "5", weight: 30, stable: &pods{7, 7}, want: canaryCounts{3, 7}},
	{name: "maxSurge 50% and maxUnavailable 0 at 50% of 4 replicas add 2 canary pods beside all 4 stable",
		replicas: 4, surge: "50%", unavailable: "0", weight: 50, stable: &pods{4, 4}, want: canaryCounts{2, 4}},
	{name: "maxSurge 50% and maxUnavailable 0 at 50% of 4 replicas drop the stable to 2 once both canary pods are available",
		replicas: 4, surge: "50%", unavailable: "0", weight: 50, canary: pods{2, 2}, stable: &pods{4, 4}, want: canaryCounts{2, 2}},
	{name: "maxSurge 0 and maxUnavailable 0 still let one pod be unavailable so the update can move",
		replicas: 4, surge: "0", unavailable: "0", weight: 50, stable: &pods{4, 4}, want: canaryCounts{0, 3}},
	{name: "maxSurge 1 and maxUnavailable 0% at 30% of 7 replicas start one canary pod beside all 7 stable",
		replicas: 7, surge: "1", unavailable: "0%", weight: 30, stable: &pods{7, 7}, want: canaryCounts{1, 7}},
	{name: "maxSurge 1 and maxUnavailable 0% at 30% of 7 replicas take one stable pod once the canary pod is available",
		replicas: 7, surge: "1", unavailable: "0%", weight: 30, canary: pods{1, 1}, stable: &pods{7, 7}, want: canaryCounts{1, 6}},
	{name: "maxSurge 25% of 7 replicas rounds up to 2, so at 50% two canary pods start beside all 7 stable",
		replicas: 7, surge: "25%", unavailable: "0", weight: 50, stable: &pods{7, 7}, want: canaryCounts{2, 7}},
	{name: "maxUnavailable 25% of 7 replicas rounds down to 1, so without surge the stable gives up one pod",
		replicas: 7, surge: "0", unavailable: "25%", weight: 50, stable: &pods{7, 7}, want: canaryCounts{0, 6}},
	{name: "the default 25% maxSurge and maxUnavailable at 50% of 5 replicas start 2 canary pods and take 1 stable pod",
		replicas: 5, weight: 50, stable: &pods{5, 5}, want: canaryCounts{2, 4}},
	{name: "50% of 5 replicas with surge settles at 3 canary and 3 stable, rounding the tie up",
		replicas: 5, surge: "1", unavailable: "0", weight: 50, canary: pods{3, 3}, stable: &pods{3, 3}, want: canaryCounts{3, 3}},
	{name: "50% of 5 replicas without surge settles at 3 canary and 2 stable, rounding the tie up",
		replicas: 5, surge: "0", unavailable: "1", weight: 50, canary: pods{3, 3}, stable: &pods{2, 2}, want: canaryCounts{3, 2}},
	{name: "41% of 10 replicas settles at 4 canary and 6 stable, the split closest to 41%",
		replicas: 10, weight: 41, canary: pods{4, 4}, stable: &pods{6, 6}, want: canaryCounts{4, 6}},
	{name: "a 5% weight on 10 replicas still gets one canary pod, run in the surge beside all 10 stable",
		replicas: 10, surge: "1", unavailable: "1", weight: 5, stable: &pods{10, 10}, want: canaryCounts{1, 10}},
	{name: "a 1% weight on 3 replicas without surge still gets one canary pod once the stable has made room",
		replicas: 3, surge: "0", unavailable: "1", weight: 1, stable: &pods{2, 2}, want: canaryCounts{1, 2}},
	{name: "a 5% weight on a single replica with surge 1 runs one canary pod beside the stable",
		replicas: 1, surge: "1", unavailable: "0", weight: 5, stable: &pods{1, 1}, want: canaryCounts{1, 1}},
	{name: "a 5% weight on a single replica without surge may keep the canary at zero pods",
		replicas: 1, surge: "0", unavailable: "1", weight: 5, stable: &pods{1, 1}, want: canaryCounts{0, 1}},
	{name: "weight 100 grows the canary into the surge and shrinks the stable down to the availability floor",
		replicas: 5, weight: 100, canary: pods{3, 3}, stable: &pods{3, 3}, want: canaryCounts{4, 1}},
	{name: "weight 0 gives the stable its pods back first and shrinks the canary within maxUnavailable",
		replicas: 5, weight: 0, canary: pods{3, 3}, stable: &pods{3, 3}, want: canaryCounts{1, 4}},
	{name: "weight 0 drops canary pods that never became available at once",
		replicas: 4, surge: "1", unavailable: "1", weight: 0, canary: pods{2, 0}, stable: &pods{3, 3}, want: canaryCounts{0, 3}},
	{name: "a growing canary shrinks a stable with unavailable pods by its spec, so a crashing stable cannot block the update",
		replicas: 10, surge: "0", unavailable: "2", weight: 50, stable: &pods{10, 6}, want: canaryCounts{0, 8}},
	{name: "while an older ReplicaSet still has pods neither the canary nor the stable shrinks",
		replicas: 4, weight: 50, canary: pods{2, 2}, stable: &pods{4, 4}, older: []pods{{1, 1}}, want: canaryCounts{2, 4}},
	{name: "an older ReplicaSet's pods count against the surge, so the canary does not grow past it",
		replicas: 4, surge: "1", unavailable: "0", weight: 50, stable: &pods{4, 4}, older: []pods{{1, 1}}, want: canaryCounts{0, 4}},
	{name: "without a stable ReplicaSet the new one is sized to every replica at once",
		replicas: 5, weight: 20, want: canaryCounts{5, 0}},
	{name: "when the stable is the new ReplicaSet it alone grows to every replica within the surge",
		replicas: 5, weight: 20, canary: pods{3, 3}, sameRS: true, want: canaryCounts{5, 0}},
}

func TestBasicCanaryCounts(t *testing.T) {
	for _, tc := range basicCases {
		t.Run(tc.name, func(t *testing.T) {
			ro := mathRollout(t, tc.replicas, tc.surge, tc.unavailable)
			newRS := sizedRS("canary", tc.canary)
			var stableRS *appsv1.ReplicaSet
			switch {
			case tc.sameRS:
				stableRS = newRS
			case tc.stable != nil:
				stableRS = sizedRS("stable", *tc.stable)
			}
			var older []*appsv1.ReplicaSet
			for i, p := range tc.older {
				older = append(older, sizedRS(fmt.Sprintf("older-%d", i), p))
			}
			got := basicCanaryCounts(ro, tc.weight, newRS, stableRS, older)
			if got != tc.want {
				t.Errorf("canary/stable = %d/%d, want %d/%d", got.canary, got.stable, tc.want.canary, tc.want.stable)
			}
		})
	}
}

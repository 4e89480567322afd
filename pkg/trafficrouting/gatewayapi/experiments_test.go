package gatewayapi

import (
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

func TestExperimentDestinationsJoinTheSplitAndLeaveAfterIt(t *testing.T) {
	ro := trtest.Rollout(t, gwRollout)
	d := desired(20)
	d.Additional = []v1alpha1.WeightDestination{
		{ServiceName: "demo-exp-canary", PodTemplateHash: "c", Weight: 10},
		{ServiceName: "demo-exp-baseline", PodTemplateHash: "b", Weight: 10},
	}
	d.AdditionalPorts = map[string]int32{"demo-exp-canary": 8080, "demo-exp-baseline": 8080}
	during := planOne(t, ro, observe(trtest.Obj(t, gwRoute)), d)
	want := strings.Replace(gwRoute, `resourceVersion: "3"}`, `resourceVersion: "3", labels: {rollouts.argoproj.io/gatewayapi-canary: in-progress}}`, 1)
	want = strings.Replace(want, "port: 80, weight: 100}", "port: 80, weight: 60}", 1)
	want = strings.Replace(want, `    - {name: demo-canary, port: 80, weight: 0}`, `    - {name: demo-canary, port: 80, weight: 20}
    - {group: "", kind: Service, name: demo-exp-baseline, port: 8080, weight: 10}
    - {group: "", kind: Service, name: demo-exp-canary, port: 8080, weight: 10}`, 1)
	trtest.Equal(t, during, want)

	// The experiment is over: its backends go, the user's stay.
	after := desired(20)
	after.PreviousAdditional = d.Additional
	got := planOne(t, ro, observe(during), after)
	want = strings.Replace(gwRoute, `resourceVersion: "3"}`, `resourceVersion: "3", labels: {rollouts.argoproj.io/gatewayapi-canary: in-progress}}`, 1)
	want = strings.Replace(want, "port: 80, weight: 100}", "port: 80, weight: 80}", 1)
	want = strings.Replace(want, "port: 80, weight: 0}", "port: 80, weight: 20}", 1)
	trtest.Equal(t, got, want)
}

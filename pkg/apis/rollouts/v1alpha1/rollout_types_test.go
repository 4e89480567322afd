package v1alpha1

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestRolloutStatusKeepsUpstreamQuirks(t *testing.T) {
	status := RolloutStatus{
		ObservedGeneration: "7",
		HPAReplicas:        6,
		Selector:           "app=demo",
		CurrentStepIndex:   new(int32),
	}
	data, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{`"observedGeneration":"7"`, `"HPAReplicas":6`, `"selector":"app=demo"`, `"currentStepIndex":0`, `"canary":{}`, `"blueGreen":{}`} {
		if !strings.Contains(got, want) {
			t.Errorf("status JSON %s lacks %s", got, want)
		}
	}
}

func TestPauseDurationSeconds(t *testing.T) {
	for name, tc := range map[string]struct {
		duration *intstr.IntOrString
		want     int32
	}{
		"no duration is an indefinite pause":  {nil, 0},
		"an integer is seconds":               {ptr(intstr.FromInt32(30)), 30},
		"a numeric string is seconds":         {ptr(intstr.FromString("45")), 45},
		"a Go duration is converted":          {ptr(intstr.FromString("1h")), 3600},
		"a unit-less fraction is not allowed": {ptr(intstr.FromString("1.5")), -1},
		"garbage reads as invalid":            {ptr(intstr.FromString("soon")), -1},
	} {
		t.Run(name, func(t *testing.T) {
			if got := (RolloutPause{Duration: tc.duration}).DurationSeconds(); got != tc.want {
				t.Errorf("DurationSeconds() = %d, want %d", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

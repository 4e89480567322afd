package plan

import (
	"encoding/json"
	"fmt"
	"hash/fnv"

	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// StepHash identifies a canary's list of steps, so that a change to the steps
// restarts them. Blue-green rollouts have none.
func StepHash(ro *v1alpha1.Rollout) string {
	if ro.Spec.Strategy.Canary == nil || ro.Spec.Strategy.BlueGreen != nil {
		return ""
	}
	data, err := json.Marshal(ro.Spec.Strategy.Canary.Steps)
	if err != nil {
		panic(fmt.Sprintf("encoding canary steps: %v", err))
	}
	h := fnv.New32a()
	h.Write(data)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

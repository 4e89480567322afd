package plan

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// PodTemplateHash is the value of the rollouts-pod-template-hash label for a
// pod template: FNV-32a over the template's JSON, then over the collision
// count (as 4 little-endian bytes padded to 8) when there is one, printed in
// decimal and made safe for label values. Argo Rollouts computes the same
// value, so ReplicaSets it created are found again rather than recreated.
func PodTemplateHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	data, err := json.Marshal(template)
	if err != nil {
		// A PodTemplateSpec always encodes; anything else is a programming error.
		panic(fmt.Sprintf("encoding a pod template: %v", err))
	}
	h := fnv.New32a()
	h.Write(data)
	if collisionCount != nil {
		buf := make([]byte, 8)
		binary.LittleEndian.PutUint32(buf, uint32(*collisionCount))
		h.Write(buf)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

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

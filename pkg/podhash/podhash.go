// Package podhash computes the rollouts-pod-template-hash label value, which
// names a revision of a pod template on the ReplicaSets of Rollouts and
// Experiments and on everything pointed at their pods.
package podhash

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
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

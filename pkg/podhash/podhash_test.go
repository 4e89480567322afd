package podhash

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func template() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
	}
}

// The value is pinned: ReplicaSets made before an upgrade (or by Argo
// Rollouts) are found again only if the hash never changes.
func TestPodTemplateHashIsStable(t *testing.T) {
	if got := PodTemplateHash(template(), nil); got != "547f8866c6" {
		t.Errorf("hash = %q, want %q", got, "547f8866c6")
	}
}

func TestCollisionCountChangesTheHash(t *testing.T) {
	zero, one := int32(0), int32(1)
	base := PodTemplateHash(template(), nil)
	withZero := PodTemplateHash(template(), &zero)
	withOne := PodTemplateHash(template(), &one)
	if base == withZero || withZero == withOne || base == withOne {
		t.Errorf("hashes %q (none), %q (0), %q (1) should all differ", base, withZero, withOne)
	}
}

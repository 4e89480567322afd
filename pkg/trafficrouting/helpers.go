package trafficrouting

import (
	"encoding/json"
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Routing returns the traffic-routing section of a Rollout, or nil when the
// Rollout is not a canary with traffic routing.
func Routing(ro *v1alpha1.Rollout) *v1alpha1.RolloutTrafficRouting {
	if ro == nil || ro.Spec.Strategy.Canary == nil {
		return nil
	}
	return ro.Spec.Strategy.Canary.TrafficRouting
}

// Max is the total of all weights: MaxWeight, or 100 when it is unset.
func (d Desired) Max() int32 {
	if d.MaxWeight > 0 {
		return d.MaxWeight
	}
	return v1alpha1.DefaultMaxTrafficWeight
}

// StableWeight is what the stable side gets: the total less the canary and
// the additional destinations, never below zero.
func (d Desired) StableWeight() int32 {
	w := d.Max() - d.CanaryWeight
	for _, a := range d.Additional {
		w -= a.Weight
	}
	if w < 0 {
		return 0
	}
	return w
}

// ManagedRouteNames lists, in order of precedence, the names of the routes a
// Rollout may add: trafficRouting.managedRoutes first, then any name used by
// a setHeaderRoute or setMirrorRoute step that the list lacks.
func ManagedRouteNames(ro *v1alpha1.Rollout) []string {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if tr := Routing(ro); tr != nil {
		for _, m := range tr.ManagedRoutes {
			add(m.Name)
		}
	}
	if ro != nil && ro.Spec.Strategy.Canary != nil {
		for _, s := range ro.Spec.Strategy.Canary.Steps {
			if s.SetHeaderRoute != nil {
				add(s.SetHeaderRoute.Name)
			}
			if s.SetMirrorRoute != nil {
				add(s.SetMirrorRoute.Name)
			}
		}
	}
	return names
}

// SameContent reports whether two objects serialize to the same JSON, so
// that an int64 read from the API server and a float64 or int32 written by a
// router compare equal.
func SameContent(a, b *unstructured.Unstructured) bool {
	if a == nil || b == nil {
		return a == b
	}
	ja, errA := json.Marshal(a.Object)
	jb, errB := json.Marshal(b.Object)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a.Object, b.Object)
	}
	return string(ja) == string(jb)
}

// ControllerRef is the owner reference that makes the Rollout the
// controller of an object it creates.
func ControllerRef(ro *v1alpha1.Rollout) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{
		APIVersion:         v1alpha1.SchemeGroupVersion.String(),
		Kind:               v1alpha1.RolloutKind,
		Name:               ro.Name,
		UID:                ro.UID,
		Controller:         &yes,
		BlockOwnerDeletion: &yes,
	}
}

// IsControlledBy reports whether obj names the Rollout as its controller.
func IsControlledBy(obj *unstructured.Unstructured, ro *v1alpha1.Rollout) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == ro.UID && ref.Kind == v1alpha1.RolloutKind
}

// Int reads a JSON number (int64 from the API server, float64 or a numeric
// string from elsewhere) as an int64; ok is false for anything else.
func Int(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// AnnotationAllowRolloutsFrom, on a traffic-routing object, lists the
// namespaces (comma-separated, or "*" for any) whose Rollouts may change it
// from outside its own namespace. Serin's own annotation: a Rollout's spec
// is written by whoever may edit Rollouts in one namespace, and naming an
// object elsewhere must not be enough to change it; the owner of that
// namespace opts in.
const AnnotationAllowRolloutsFrom = "serin.dev/allow-rollouts-from"

// AllowsRolloutsFrom tells whether Rollouts of namespace may change obj:
// always in obj's own namespace, elsewhere only as its annotation allows.
func AllowsRolloutsFrom(obj *unstructured.Unstructured, namespace string) bool {
	if obj.GetNamespace() == namespace {
		return true
	}
	for _, ns := range strings.Split(obj.GetAnnotations()[AnnotationAllowRolloutsFrom], ",") {
		if ns = strings.TrimSpace(ns); ns == "*" || ns == namespace {
			return true
		}
	}
	return false
}

// Names is a router's list of object names, given either as a list (which
// wins when set) or as one name, as the ingress/ingresses and
// stableIngress/stableIngresses fields are.
func Names(list []string, one string) []string {
	if list != nil {
		return list
	}
	if one != "" {
		return []string{one}
	}
	return nil
}

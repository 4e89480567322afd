package simulate

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// RouterWeights are the weights one traffic-routing object carries.
type RouterWeights struct {
	// Object is kind/namespace/name.
	Object string `json:"object"`
	// Weights are "destination=weight", in the object's order.
	Weights []string `json:"weights"`
}

// canaryWeightAnnotation is how an nginx canary Ingress carries its weight.
const canaryWeightAnnotation = "nginx.ingress.kubernetes.io/canary-weight"

// routerWeights reads the weights off every router object the Rollout
// references, as the routers last wrote them.
func (w *world) routerWeights() []RouterWeights {
	var out []RouterWeights
	seen := map[trafficrouting.Ref]bool{}
	for _, r := range w.routers {
		for _, ref := range r.References(w.ro) {
			obj, ok := w.objects[ref]
			if !ok || seen[ref] {
				continue
			}
			seen[ref] = true
			if ws := weightsOf(obj); len(ws) > 0 {
				out = append(out, RouterWeights{Object: obj.GetKind() + "/" + ref.Namespace + "/" + ref.Name, Weights: ws})
			}
		}
	}
	return out
}

// weightsOf finds every destination with a weight in an object: Istio
// route destinations, SMI backends, Gateway API backendRefs, and the nginx
// canary-weight annotation.
func weightsOf(obj *unstructured.Unstructured) []string {
	var out []string
	if v, ok := obj.GetAnnotations()[canaryWeightAnnotation]; ok {
		out = append(out, "canary="+v)
	}
	walk(obj.Object["spec"], &out)
	return out
}

func walk(v any, out *[]string) {
	switch t := v.(type) {
	case map[string]any:
		if weight, ok := t["weight"]; ok {
			*out = append(*out, fmt.Sprintf("%s=%v", destinationName(t), weight))
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(t[k], out)
		}
	case []any:
		for _, e := range t {
			walk(e, out)
		}
	}
}

// destinationName names a weighted destination by its host and subset, its
// service or its name.
func destinationName(m map[string]any) string {
	if d, ok := m["destination"].(map[string]any); ok {
		parts := []string{fmt.Sprint(d["host"])}
		if s, ok := d["subset"]; ok {
			parts = append(parts, fmt.Sprint(s))
		}
		return strings.Join(parts, "/")
	}
	for _, k := range []string{"service", "serviceName", "name"} {
		if s, ok := m[k]; ok {
			return fmt.Sprint(s)
		}
	}
	return "?"
}

package apisix

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// planHeaderRoutes plans one ApisixRoute per managed route name: present
// while a header route of that name is in force, deleted (when the Rollout
// owns it) once none is.
func planHeaderRoutes(ro *v1alpha1.Rollout, cfg *v1alpha1.ApisixRoute, main *unstructured.Unstructured, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired, w *trafficrouting.Writes) error {
	inForce := map[string]v1alpha1.SetHeaderRoute{}
	for _, h := range d.HeaderRoutes {
		inForce[h.Name] = h
	}
	for _, name := range trafficrouting.ManagedRouteNames(ro) {
		r := ref(ro, name)
		have := observed[r]
		h, wanted := inForce[name]
		switch {
		case !wanted:
			if have != nil && trafficrouting.IsControlledBy(have, ro) {
				w.Deletes = append(w.Deletes, r)
			}
		case have == nil:
			obj, err := headerRoute(ro, cfg, copyOf(ro, name, main), h, d, true)
			if err != nil {
				return err
			}
			w.Creates = append(w.Creates, trafficrouting.Change{Ref: r, Unstructured: obj})
		case !trafficrouting.IsControlledBy(have, ro):
			return fmt.Errorf("duplicate ApisixRoute [%s] already exists", name)
		default:
			obj, err := headerRoute(ro, cfg, have.DeepCopy(), h, d, false)
			if err != nil {
				return err
			}
			if !trafficrouting.SameContent(obj, have) {
				w.Updates = append(w.Updates, trafficrouting.Change{Ref: r, Unstructured: obj, Replace: true})
			}
		}
	}
	return nil
}

// copyOf is a new ApisixRoute of the given name with the main route's
// spec, labels and annotations, owned by the Rollout.
func copyOf(ro *v1alpha1.Rollout, name string, main *unstructured.Unstructured) *unstructured.Unstructured {
	spec, _, _ := unstructured.NestedFieldCopy(main.Object, "spec")
	out := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	out.SetAPIVersion(main.GetAPIVersion())
	out.SetKind(main.GetKind())
	out.SetName(name)
	out.SetNamespace(ro.Namespace)
	out.SetLabels(main.GetLabels())
	out.SetAnnotations(main.GetAnnotations())
	out.SetOwnerReferences([]metav1.OwnerReference{trafficrouting.ControllerRef(ro)})
	return out
}

// headerRoute makes each named rule of obj send everything to the canary
// backend (the stable backend removed) for requests matching the headers;
// a new route's rules also go one priority above the main route's.
func headerRoute(ro *v1alpha1.Rollout, cfg *v1alpha1.ApisixRoute, obj *unstructured.Unstructured, h v1alpha1.SetHeaderRoute, d trafficrouting.Desired, isNew bool) (*unstructured.Unstructured, error) {
	err := eachRule(obj, cfg, func(rule map[string]any) error {
		backends, err := backendsOf(rule)
		if err != nil {
			return err
		}
		if err := setWeight(backends, d.CanaryService, 100); err != nil {
			return err
		}
		rule["backends"] = withoutBackend(backends, d.StableService)
		if isNew {
			p, _ := trafficrouting.Int(rule["priority"])
			rule["priority"] = p + 1
		}
		match, _ := rule["match"].(map[string]any)
		if match == nil {
			match = map[string]any{}
			rule["match"] = match
		}
		match["exprs"] = exprs(h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ApisixRoute %q: %w", obj.GetName(), err)
	}
	return obj, nil
}

func withoutBackend(backends []any, service string) []any {
	out := []any{}
	for _, raw := range backends {
		if b, _ := raw.(map[string]any); b["serviceName"] != service {
			out = append(out, raw)
		}
	}
	return out
}

// exprs are APISIX match expressions for the header matches: Equal for an
// exact value, RegexMatch for a regex, and for a prefix the regex
// "^<prefix>.*" (the prefix is not escaped, as in Argo Rollouts).
func exprs(h v1alpha1.SetHeaderRoute) []any {
	out := []any{}
	for _, m := range h.Match {
		if m.HeaderValue == nil {
			continue
		}
		add := func(op, value string) {
			out = append(out, map[string]any{
				"subject": map[string]any{"scope": "Header", "name": m.HeaderName},
				"op":      op,
				"value":   value,
			})
		}
		if v := m.HeaderValue.Exact; v != "" {
			add("Equal", v)
		}
		if v := m.HeaderValue.Regex; v != "" {
			add("RegexMatch", v)
		}
		if v := m.HeaderValue.Prefix; v != "" {
			add("RegexMatch", "^"+v+".*")
		}
	}
	return out
}

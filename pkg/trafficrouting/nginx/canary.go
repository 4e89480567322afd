package nginx

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// ingressClassAnnotation is the one stable Ingress annotation the canary
// needs, so that the same controller picks it up.
const ingressClassAnnotation = "kubernetes.io/ingress.class"

// Header annotations this router writes for setHeaderRoute steps.
const (
	byHeader        = "canary-by-header"
	byHeaderValue   = "canary-by-header-value"
	byHeaderPattern = "canary-by-header-pattern"
)

// canarySpec copies the TLS settings, the ingress class and the rules of
// the stable Ingress that send to the stable Service, with those backends
// switched to the canary Service. Rules that never send to the stable
// Service are left out, as is the default backend.
func (r *Router) canarySpec(stable *unstructured.Unstructured, name string, d trafficrouting.Desired) (map[string]any, error) {
	src, _ := stable.Object["spec"].(map[string]any)
	spec := map[string]any{}
	if tls, ok := src["tls"]; ok {
		spec["tls"] = runtime.DeepCopyJSONValue(tls)
	}
	if class, ok := src["ingressClassName"]; ok {
		spec["ingressClassName"] = class
	}
	srcRules, _ := src["rules"].([]any)
	rules := []any{}
	for _, raw := range srcRules {
		rule, ok := runtime.DeepCopyJSONValue(raw).(map[string]any)
		if !ok {
			continue
		}
		http, _ := rule["http"].(map[string]any)
		paths, _ := http["paths"].([]any)
		uses := false
		for _, p := range paths {
			if r.swapBackend(p, d.StableService, d.CanaryService) {
				uses = true
			}
		}
		if uses {
			rules = append(rules, rule)
		}
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("stable Ingress %q has no rules using Service %q as a backend", stable.GetNamespace()+"/"+name, d.StableService)
	}
	spec["rules"] = rules
	return spec, nil
}

// swapBackend points a path at the canary when it points at the stable
// Service, and reports whether it did.
func (r *Router) swapBackend(path any, stable, canary string) bool {
	p, _ := path.(map[string]any)
	backend, _ := p["backend"].(map[string]any)
	if r.legacy() {
		if name, _ := backend["serviceName"].(string); name == stable {
			backend["serviceName"] = canary
			return true
		}
		return false
	}
	svc, _ := backend["service"].(map[string]any)
	if name, _ := svc["name"].(string); name == stable {
		svc["name"] = canary
		return true
	}
	return false
}

// desiredAnnotations are the annotations the canary Ingress must carry:
// the ingress class, the Rollout's additional annotations (under the
// prefix) and canary annotations (as given), the header match, and the
// canary flag and weights, which win over anything else.
func desiredAnnotations(ro *v1alpha1.Rollout, cfg *v1alpha1.NginxTrafficRouting, stable *unstructured.Unstructured, d trafficrouting.Desired, header map[string]string) map[string]string {
	p := prefix(cfg)
	out := map[string]string{}
	if class, ok := stable.GetAnnotations()[ingressClassAnnotation]; ok {
		out[ingressClassAnnotation] = class
	}
	for k, v := range cfg.AdditionalIngressAnnotations {
		if !strings.HasPrefix(k, p) {
			k = p + "/" + k
		}
		out[k] = v
	}
	for k, v := range cfg.CanaryIngressAnnotations {
		out[k] = v
	}
	for k, v := range header {
		out[k] = v
	}
	out[p+"/canary"] = "true"
	out[p+"/canary-weight"] = fmt.Sprintf("%d", d.CanaryWeight)
	if tr := trafficrouting.Routing(ro); tr != nil && tr.MaxTrafficWeight != nil {
		out[p+"/canary-weight-total"] = fmt.Sprintf("%d", *tr.MaxTrafficWeight)
	}
	return out
}

// mergeAnnotations keeps annotations other tools put on the canary Ingress,
// except header annotations no longer wanted, and sets the desired ones.
func mergeAnnotations(current, desired map[string]string, p string) map[string]string {
	out := map[string]string{}
	for k, v := range current {
		out[k] = v
	}
	for _, k := range []string{byHeader, byHeaderValue, byHeaderPattern} {
		if _, keep := desired[p+"/"+k]; !keep {
			delete(out, p+"/"+k)
		}
	}
	for k, v := range desired {
		out[k] = v
	}
	return out
}

// headerAnnotations turns the header route in force into ingress-nginx's
// canary-by-header annotations. ingress-nginx matches a single header, so
// more than one header route or condition is an error.
func headerAnnotations(p string, routes []v1alpha1.SetHeaderRoute) (map[string]string, error) {
	var active []v1alpha1.SetHeaderRoute
	for _, h := range routes {
		if len(h.Match) > 0 {
			active = append(active, h)
		}
	}
	if len(active) == 0 {
		return nil, nil
	}
	if len(active) > 1 || len(active[0].Match) > 1 {
		return nil, fmt.Errorf("nginx can route a single header to the canary; header route %q has more than one condition or another header route is active", active[0].Name)
	}
	m := active[0].Match[0]
	out := map[string]string{p + "/" + byHeader: m.HeaderName}
	v := m.HeaderValue
	switch {
	case v == nil:
		return nil, fmt.Errorf("header route %q has no value to match header %q", active[0].Name, m.HeaderName)
	case v.Exact != "":
		out[p+"/"+byHeaderValue] = v.Exact
	case v.Regex != "":
		out[p+"/"+byHeaderPattern] = v.Regex
	case v.Prefix != "":
		out[p+"/"+byHeaderPattern] = "^" + regexp.QuoteMeta(v.Prefix) + ".*"
	default:
		return nil, fmt.Errorf("header route %q has no value to match header %q", active[0].Name, m.HeaderName)
	}
	return out, nil
}

package alb

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ManagedBy lists the names of the Rollouts the Ingress's
// managed-alb-annotations records, sorted; nil when it records none or
// cannot be read.
func ManagedBy(ing *unstructured.Unstructured) []string {
	m, err := parseManaged(ing.GetAnnotations()[ManagedAnnotations])
	if err != nil {
		return nil
	}
	var out []string
	for name := range m {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Release returns the Ingress given back by the Rollouts named (deleted,
// or no longer routing through it): each weighted action they managed
// forwards everything to one Service again (see releaseKey); their header
// routes go, with their paths; their record leaves
// managed-alb-annotations (removed once empty), and the older
// managed-alb-actions annotation goes. changed is false when nothing is
// to be done.
func (r *Router) Release(ing *unstructured.Unstructured, leavers []string) (*unstructured.Unstructured, bool) {
	m, err := parseManaged(ing.GetAnnotations()[ManagedAnnotations])
	if err != nil {
		return nil, false
	}
	out := ing.DeepCopy()
	annotations := out.GetAnnotations()
	changed := false
	for _, name := range leavers {
		keys, ok := m[name]
		if !ok {
			continue
		}
		changed = true
		delete(m, name)
		for _, key := range keys {
			r.releaseKey(out, annotations, key, keys)
		}
	}
	if !changed {
		return nil, false
	}
	if len(m) == 0 {
		delete(annotations, ManagedAnnotations)
	} else {
		annotations[ManagedAnnotations] = m.String()
	}
	delete(annotations, ManagedActions)
	out.SetAnnotations(annotations)
	return out, true
}

// releaseKey resets or removes one annotation a Rollout managed. A header
// route (an action with a condition of the same name among the Rollout's
// keys) goes, with its path. A weighted action forwards everything to its
// own Service when it lists it (Argo Rollouts' reset), else, with a
// rootService, to the Service that was stable (listed last).
func (r *Router) releaseKey(ing *unstructured.Unstructured, annotations map[string]string, key string, keys []string) {
	value, ok := annotations[key]
	if !ok {
		return
	}
	prefix, service, isAction := strings.Cut(key, "/actions.")
	if !isAction || slices.Contains(keys, prefix+"/conditions."+service) {
		if isAction {
			r.removePaths(ing, service)
		}
		delete(annotations, key)
		return
	}
	var a action
	if json.Unmarshal([]byte(value), &a) != nil || len(a.ForwardConfig.TargetGroups) == 0 {
		return // not ours to rewrite: leave it as it is
	}
	keep := a.ForwardConfig.TargetGroups[len(a.ForwardConfig.TargetGroups)-1]
	for _, tg := range a.ForwardConfig.TargetGroups {
		if tg.ServiceName == service {
			keep = tg
		}
	}
	full := int64(100)
	keep.Weight = &full
	reset := action{Type: "forward", ForwardConfig: forwardConfig{TargetGroups: []targetGroup{keep}, TargetGroupStickinessConfig: a.ForwardConfig.TargetGroupStickinessConfig}}
	if v, err := render(reset); err == nil {
		annotations[key] = v
	}
}

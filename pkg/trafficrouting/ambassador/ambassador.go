// Package ambassador splits traffic with Ambassador (Emissary-ingress)
// Mappings. For each Mapping the Rollout names, the router keeps a canary
// Mapping "<name>-canary": a copy of the base Mapping whose service points
// at the canary Service and whose weight is the canary weight. Ambassador
// sends that share of the base Mapping's traffic to it. At weight 0 the
// canary Mapping is first set to weight 0 and then, on a later pass, deleted,
// so that Ambassador has stopped routing to it before it goes.
package ambassador

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// DefaultAPIVersion is Argo Rollouts' default (its --ambassador-api-version
// flag).
const DefaultAPIVersion = "getambassador.io/v2"

const defaultGroup = "getambassador.io"

// resourceOf maps an API group to the resource holding its Mappings:
// Emissary 3's x.getambassador.io calls them ambassadormappings.
var resourceOf = map[string]string{
	"getambassador.io":   "mappings",
	"x.getambassador.io": "ambassadormappings",
}

// Router is the Ambassador traffic router.
type Router struct {
	gvr schema.GroupVersionResource
}

// New returns an Ambassador router for Mappings of apiVersion
// ("getambassador.io/v2", "getambassador.io/v3alpha1",
// "x.getambassador.io/v3alpha1"; a bare version means getambassador.io,
// "" the default).
func New(apiVersion string) trafficrouting.Router {
	if apiVersion == "" {
		apiVersion = DefaultAPIVersion
	}
	group, version := defaultGroup, apiVersion
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		group, version = apiVersion[:i], apiVersion[i+1:]
	}
	resource, ok := resourceOf[group]
	if !ok {
		resource = resourceOf[defaultGroup]
	}
	return &Router{gvr: schema.GroupVersionResource{Group: group, Version: version, Resource: resource}}
}

// Mappings is the GVR the router reads and writes.
func (r *Router) Mappings() schema.GroupVersionResource { return r.gvr }

// Resources lists the GVRs the router may reference.
func (r *Router) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{r.gvr}
}

// Type names the provider.
func (r *Router) Type() string { return "Ambassador" }

func config(ro *v1alpha1.Rollout) *v1alpha1.AmbassadorTrafficRouting {
	if tr := trafficrouting.Routing(ro); tr != nil {
		return tr.Ambassador
	}
	return nil
}

// CanaryName is the name of the canary Mapping of a base Mapping: the base
// name, cut to 246 characters, with "-canary" appended.
func CanaryName(base string) string {
	if len(base) > 246 {
		base = base[:246]
	}
	return base + "-canary"
}

func (r *Router) ref(ro *v1alpha1.Rollout, name string) trafficrouting.Ref {
	return trafficrouting.Ref{Resource: r.gvr, Namespace: ro.Namespace, Name: name}
}

// References names each base Mapping and its canary Mapping.
func (r *Router) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	var out []trafficrouting.Ref
	for _, m := range cfg.Mappings {
		out = append(out, r.ref(ro, m), r.ref(ro, CanaryName(m)))
	}
	return out
}

// Validate checks that at least one Mapping is named. Like Argo Rollouts,
// the base Mappings themselves are checked only when a canary Mapping is
// to be made from them (Plan).
func (r *Router) Validate(ro *v1alpha1.Rollout, _ map[trafficrouting.Ref]*unstructured.Unstructured) error {
	if cfg := config(ro); cfg != nil && len(cfg.Mappings) == 0 {
		return errors.New("ambassador.mappings names no Mapping")
	}
	return nil
}

// Plan creates, reweights or retires the canary Mapping of each base
// Mapping. Every base Mapping is planned; the errors are joined.
func (r *Router) Plan(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	cfg := config(ro)
	if cfg == nil {
		return trafficrouting.Writes{}, nil
	}
	var w trafficrouting.Writes
	var errs []error
	for _, base := range cfg.Mappings {
		if err := r.planMapping(ro, base, observed, d, &w); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return trafficrouting.Writes{}, errors.Join(errs...)
	}
	return w, nil
}

func (r *Router) planMapping(ro *v1alpha1.Rollout, base string, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired, w *trafficrouting.Writes) error {
	canaryRef := r.ref(ro, CanaryName(base))
	canary := observed[canaryRef]
	switch {
	case canary == nil && d.CanaryWeight == 0:
		return nil
	case canary == nil:
		obj, err := r.canaryMapping(ro, base, observed[r.ref(ro, base)], d)
		if err != nil {
			return err
		}
		w.Creates = append(w.Creates, trafficrouting.Change{Ref: canaryRef, Unstructured: obj})
	case d.CanaryWeight == 0 && weightOf(canary) == 0:
		w.Deletes = append(w.Deletes, canaryRef)
	case weightOf(canary) != int64(d.CanaryWeight):
		obj := canary.DeepCopy()
		_ = unstructured.SetNestedField(obj.Object, int64(d.CanaryWeight), "spec", "weight")
		w.Updates = append(w.Updates, trafficrouting.Change{Ref: canaryRef, Unstructured: obj, Replace: true})
	}
	return nil
}

// canaryMapping builds the canary Mapping of a base Mapping: its spec, with
// the first mention of the stable Service in spec.service replaced by the
// canary Service and the weight set; no metadata but the name and
// namespace.
func (r *Router) canaryMapping(ro *v1alpha1.Rollout, base string, obj *unstructured.Unstructured, d trafficrouting.Desired) (*unstructured.Unstructured, error) {
	if obj == nil {
		return nil, fmt.Errorf("Ambassador mapping %q not found", base)
	}
	if weightOf(obj) != 0 {
		return nil, fmt.Errorf("Ambassador mapping %q can not define weight", base)
	}
	spec, _, _ := unstructured.NestedMap(obj.Object, "spec")
	if spec == nil {
		spec = map[string]any{}
	}
	service, _ := spec["service"].(string)
	spec["service"] = strings.Replace(service, d.StableService, d.CanaryService, 1)
	spec["weight"] = int64(d.CanaryWeight)
	out := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	out.SetAPIVersion(obj.GetAPIVersion())
	out.SetKind(obj.GetKind())
	out.SetName(CanaryName(base))
	out.SetNamespace(ro.Namespace)
	return out, nil
}

// weightOf reads spec.weight, 0 when unset.
func weightOf(obj *unstructured.Unstructured) int64 {
	spec, _ := obj.Object["spec"].(map[string]any)
	w, _ := trafficrouting.Int(spec["weight"])
	return w
}

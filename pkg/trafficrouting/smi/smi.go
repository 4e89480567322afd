// Package smi splits traffic with an SMI TrafficSplit that the Rollout
// owns: the root Service is split between the canary, any experiment
// Services and the stable Service.
package smi

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Group is the API group of TrafficSplits.
const Group = "split.smi-spec.io"

// DefaultAPIVersion is the version used when New is given none, as in Argo
// Rollouts (its --traffic-split-api-version flag).
const DefaultAPIVersion = "v1alpha1"

// Router is the SMI traffic router.
type Router struct {
	version string
}

// New returns an SMI router for TrafficSplits of the given version:
// v1alpha1 (the default for ""), v1alpha2 or v1alpha3.
func New(apiVersion string) trafficrouting.Router {
	if apiVersion == "" {
		apiVersion = DefaultAPIVersion
	}
	return &Router{version: apiVersion}
}

// TrafficSplits is the GVR the router reads and writes.
func (r *Router) TrafficSplits() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: Group, Version: r.version, Resource: "trafficsplits"}
}

// Resources lists the GVRs the router may reference.
func (r *Router) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{r.TrafficSplits()}
}

// Type names the provider.
func (r *Router) Type() string { return "SMI" }

func config(ro *v1alpha1.Rollout) *v1alpha1.SMITrafficRouting {
	if tr := trafficrouting.Routing(ro); tr != nil {
		return tr.SMI
	}
	return nil
}

func (r *Router) ref(ro *v1alpha1.Rollout, cfg *v1alpha1.SMITrafficRouting) trafficrouting.Ref {
	name := cfg.TrafficSplitName
	if name == "" {
		name = ro.Name
	}
	return trafficrouting.Ref{Resource: r.TrafficSplits(), Namespace: ro.Namespace, Name: name}
}

// References names the TrafficSplit, which may not exist yet.
func (r *Router) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	return []trafficrouting.Ref{r.ref(ro, cfg)}
}

// weight renders a weight the way the version expects: v1alpha1 backends
// carry a quantity (a string such as "10"), later versions an integer.
func (r *Router) weight(w int32) any {
	if r.version == "v1alpha1" {
		return strconv.Itoa(int(w))
	}
	return int64(w)
}

// readWeight reads a backend weight whatever its form.
func readWeight(v any) (int64, bool) {
	if s, ok := v.(string); ok {
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return 0, false
		}
		return q.Value(), true
	}
	return trafficrouting.Int(v)
}

// spec is the desired TrafficSplit spec: the canary, the experiments, then
// the stable Service with the rest.
func (r *Router) spec(cfg *v1alpha1.SMITrafficRouting, d trafficrouting.Desired) map[string]any {
	root := cfg.RootService
	if root == "" {
		root = d.StableService
	}
	backends := []any{map[string]any{"service": d.CanaryService, "weight": r.weight(d.CanaryWeight)}}
	for _, a := range d.Additional {
		backends = append(backends, map[string]any{"service": a.ServiceName, "weight": r.weight(a.Weight)})
	}
	backends = append(backends, map[string]any{"service": d.StableService, "weight": r.weight(d.StableWeight())})
	return map[string]any{"service": root, "backends": backends}
}

// keepEqualWeights reuses the observed form of weights that are equal in
// value, so that "10" and 10 do not cause a write.
func keepEqualWeights(desired, observed map[string]any) {
	want, _ := desired["backends"].([]any)
	have, _ := observed["backends"].([]any)
	for i := range min(len(want), len(have)) {
		w, _ := want[i].(map[string]any)
		h, _ := have[i].(map[string]any)
		if w["service"] != h["service"] {
			continue
		}
		wv, ok1 := readWeight(w["weight"])
		hv, ok2 := readWeight(h["weight"])
		if ok1 && ok2 && wv == hv {
			w["weight"] = h["weight"]
		}
	}
}

func (r *Router) supported() error {
	switch r.version {
	case "v1alpha1", "v1alpha2", "v1alpha3":
		return nil
	}
	return fmt.Errorf("unsupported TrafficSplit API version %q", r.version)
}

// Validate checks the TrafficSplit API version and that an existing
// TrafficSplit of the configured name is this Rollout's.
func (r *Router) Validate(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) error {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	if err := r.supported(); err != nil {
		return err
	}
	ref := r.ref(ro, cfg)
	if ts := observed[ref]; ts != nil && !trafficrouting.IsControlledBy(ts, ro) {
		return fmt.Errorf("TrafficSplit %q is not owned by Rollout %q", ref.Namespace+"/"+ref.Name, ro.Name)
	}
	return nil
}

// Plan creates the TrafficSplit, or sets its spec when it differs.
func (r *Router) Plan(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	cfg := config(ro)
	if cfg == nil {
		return trafficrouting.Writes{}, nil
	}
	if err := r.supported(); err != nil {
		return trafficrouting.Writes{}, err
	}
	ref := r.ref(ro, cfg)
	spec := r.spec(cfg, d)
	ts := observed[ref]
	if ts == nil {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
		u.SetAPIVersion(Group + "/" + r.version)
		u.SetKind("TrafficSplit")
		u.SetName(ref.Name)
		u.SetNamespace(ref.Namespace)
		u.SetOwnerReferences([]metav1.OwnerReference{trafficrouting.ControllerRef(ro)})
		return trafficrouting.Writes{Creates: []trafficrouting.Change{{Ref: ref, Unstructured: u}}}, nil
	}
	if !trafficrouting.IsControlledBy(ts, ro) {
		return trafficrouting.Writes{}, fmt.Errorf("TrafficSplit %q is not owned by Rollout %q", ref.Namespace+"/"+ref.Name, ro.Name)
	}
	if have, ok := ts.Object["spec"].(map[string]any); ok {
		keepEqualWeights(spec, have)
	}
	updated := ts.DeepCopy()
	updated.Object["spec"] = spec
	if trafficrouting.SameContent(updated, ts) {
		return trafficrouting.Writes{}, nil
	}
	return trafficrouting.Writes{Updates: []trafficrouting.Change{{Ref: ref, Unstructured: updated}}}, nil
}

// Package istio splits traffic with Istio VirtualServices and, for a
// subset-level split, a DestinationRule. It works on unstructured objects
// and keeps every field it does not manage as the user wrote it.
package istio

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Group is the API group of VirtualServices and DestinationRules.
const Group = "networking.istio.io"

// DefaultAPIVersion is the version used when New is given none, as in
// Argo Rollouts (its --istio-api-version flag).
const DefaultAPIVersion = "v1alpha3"

// Router is the Istio traffic router.
type Router struct {
	version string
}

// New returns an Istio router that reads and writes objects of the given
// networking.istio.io version ("" means v1alpha3).
func New(apiVersion string) trafficrouting.Router {
	if apiVersion == "" {
		apiVersion = DefaultAPIVersion
	}
	return &Router{version: apiVersion}
}

// VirtualServices is the GVR of VirtualServices at this router's version.
func (r *Router) VirtualServices() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: Group, Version: r.version, Resource: "virtualservices"}
}

// DestinationRules is the GVR of DestinationRules at this router's version.
func (r *Router) DestinationRules() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: Group, Version: r.version, Resource: "destinationrules"}
}

// Resources lists the GVRs the router may reference.
func (r *Router) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{r.VirtualServices(), r.DestinationRules()}
}

// Type names the provider.
func (r *Router) Type() string { return "Istio" }

func config(ro *v1alpha1.Rollout) *v1alpha1.IstioTrafficRouting {
	if tr := trafficrouting.Routing(ro); tr != nil {
		return tr.Istio
	}
	return nil
}

// virtualServices lists the configured VirtualServices; the plural field
// wins when both are set.
func virtualServices(cfg *v1alpha1.IstioTrafficRouting) []v1alpha1.IstioVirtualService {
	if cfg.VirtualServices != nil {
		return cfg.VirtualServices
	}
	if cfg.VirtualService != nil {
		return []v1alpha1.IstioVirtualService{*cfg.VirtualService}
	}
	return nil
}

// splitName resolves a VirtualService reference. "namespace/name" is read
// as such; otherwise, as in Argo Rollouts, a trailing ".cluster.local" is
// dropped and the part after the last dot is the namespace ("name.ns").
func splitName(ref, defaultNamespace string) (namespace, name string) {
	if i := strings.Index(ref, "/"); i >= 0 {
		return ref[:i], ref[i+1:]
	}
	ref = strings.TrimSuffix(ref, ".cluster.local")
	if i := strings.LastIndex(ref, "."); i >= 0 {
		return ref[i+1:], ref[:i]
	}
	return defaultNamespace, ref
}

func (r *Router) vsRef(ro *v1alpha1.Rollout, ref string) trafficrouting.Ref {
	ns, name := splitName(ref, ro.Namespace)
	return trafficrouting.Ref{Resource: r.VirtualServices(), Namespace: ns, Name: name}
}

func (r *Router) drRef(ro *v1alpha1.Rollout, name string) trafficrouting.Ref {
	return trafficrouting.Ref{Resource: r.DestinationRules(), Namespace: ro.Namespace, Name: name}
}

// References names the VirtualServices and the DestinationRule.
func (r *Router) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	var refs []trafficrouting.Ref
	for _, vs := range virtualServices(cfg) {
		refs = append(refs, r.vsRef(ro, vs.Name))
	}
	if cfg.DestinationRule != nil {
		refs = append(refs, r.drRef(ro, cfg.DestinationRule.Name))
	}
	return refs
}

func refString(ref trafficrouting.Ref) string {
	return fmt.Sprintf("%q", ref.Namespace+"/"+ref.Name)
}

// Validate checks that the DestinationRule and every VirtualService exist
// and that each route to split sends to both the stable and the canary.
func (r *Router) Validate(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) error {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	stable, canary := trafficrouting.Services(ro, false)
	s := &split{d: trafficrouting.Desired{StableService: stable, CanaryService: canary},
		dr: cfg.DestinationRule, managed: trafficrouting.ManagedRouteNames(ro)}
	if s.dr != nil {
		if ref := r.drRef(ro, s.dr.Name); observed[ref] == nil {
			return fmt.Errorf("DestinationRule %s not found", refString(ref))
		}
	}
	for _, vs := range virtualServices(cfg) {
		ref := r.vsRef(ro, vs.Name)
		obj := observed[ref]
		if obj == nil {
			return fmt.Errorf("VirtualService %s not found", refString(ref))
		}
		s.vsName = refString(ref)
		if err := s.validateVirtualService(obj, vs); err != nil {
			return err
		}
	}
	return nil
}

// Plan brings the DestinationRule subsets and the VirtualService weights
// and managed routes to the desired state.
func (r *Router) Plan(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	cfg := config(ro)
	if cfg == nil {
		return trafficrouting.Writes{}, nil
	}
	s := &split{d: d, dr: cfg.DestinationRule, managed: trafficrouting.ManagedRouteNames(ro), rollout: RolloutKey(ro.Namespace, ro.Name)}
	drUpdate, canaryMoves, err := r.destinationRuleChange(ro, observed, s)
	if err != nil {
		return trafficrouting.Writes{}, err
	}
	vsUpdates, canaryBefore, err := r.virtualServiceChanges(ro, observed, cfg, s)
	if err != nil {
		return trafficrouting.Writes{}, err
	}
	return orderWrites(drUpdate, canaryMoves, vsUpdates, d, canaryBefore), nil
}

// destinationRuleChange plans the DestinationRule's subsets, if one is
// configured, and records its host in s. It returns the update (nil when
// nothing changes) and whether the canary subset moves to other pods.
func (r *Router) destinationRuleChange(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, s *split) (*trafficrouting.Change, bool, error) {
	if s.dr == nil {
		return nil, false, nil
	}
	d := s.d
	ref := r.drRef(ro, s.dr.Name)
	obj := observed[ref]
	if obj == nil {
		return nil, false, fmt.Errorf("DestinationRule %s not found", refString(ref))
	}
	if d.CanaryWeight > 0 && d.CanaryHash == "" {
		return nil, false, fmt.Errorf("DestinationRule %s: refusing to send weight %d to subset %q before it selects a pod template hash", refString(ref), d.CanaryWeight, s.dr.CanarySubsetName)
	}
	s.drHost, _, _ = unstructured.NestedString(obj.Object, "spec", "host")
	planned, moves := planDestinationRule(obj, ro.Name, s.dr, d)
	if trafficrouting.SameContent(planned, obj) {
		return nil, false, nil
	}
	return &trafficrouting.Change{Ref: ref, Unstructured: planned}, moves, nil
}

// virtualServiceChanges plans the weights and managed routes of every
// VirtualService. It returns the updates of those that change and the
// canary weight the first one sends today (0 when it cannot be read).
func (r *Router) virtualServiceChanges(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, cfg *v1alpha1.IstioTrafficRouting, s *split) ([]trafficrouting.Change, int64, error) {
	var vsUpdates []trafficrouting.Change
	canaryBefore := int64(0)
	for i, vs := range virtualServices(cfg) {
		ref := r.vsRef(ro, vs.Name)
		obj := observed[ref]
		if obj == nil {
			return nil, 0, fmt.Errorf("VirtualService %s not found", refString(ref))
		}
		s.vsName = refString(ref)
		if i == 0 {
			if tw, err := s.read(obj, vs); err == nil {
				canaryBefore = int64(tw.Canary.Weight)
			}
		}
		planned, err := s.planVirtualService(obj, vs)
		if err != nil {
			return nil, 0, err
		}
		if !trafficrouting.SameContent(planned, obj) {
			vsUpdates = append(vsUpdates, trafficrouting.Change{Ref: ref, Unstructured: planned})
		}
	}
	return vsUpdates, canaryBefore, nil
}

// orderWrites puts the DestinationRule update before or after the
// VirtualService updates so that no traffic reaches pods not yet ready
// for it.
func orderWrites(drUpdate *trafficrouting.Change, canaryMoves bool, vsUpdates []trafficrouting.Change, d trafficrouting.Desired, canaryBefore int64) trafficrouting.Writes {
	var w trafficrouting.Writes
	switch {
	case drUpdate == nil:
		w.Updates = vsUpdates
	case canaryMoves && d.CanaryWeight == 0 && canaryBefore > 0:
		// The canary subset is about to select pods that do not serve yet:
		// take its traffic away first, then move the subset.
		w.Updates = append(vsUpdates, *drUpdate)
	default:
		// Point the subsets at the right pods before weights move to them.
		w.Updates = append([]trafficrouting.Change{*drUpdate}, vsUpdates...)
	}
	return w
}

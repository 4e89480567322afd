// Package appmesh splits traffic with AWS App Mesh: the VirtualService the
// Rollout names is provided by a VirtualRouter whose routes send weighted
// targets to two VirtualNodes, one for the canary and one for the stable
// revision. The router points each VirtualNode's pod selector at its
// revision's pod template hash and sets the two targets' weights.
package appmesh

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Group is the App Mesh API group; DefaultVersion is Argo Rollouts'
// default CRD version (its --appmesh-crd-version flag).
const (
	Group          = "appmesh.k8s.aws"
	DefaultVersion = "v1beta2"
)

// The pod template hashes a VirtualNode selects when its revision has none
// (no stable yet, or the canary is the stable), as in Argo Rollouts: they
// match no pod.
const (
	placeholderCanaryHash = "canary-hash"
	placeholderStableHash = "stable-hash"
)

// Router is the App Mesh traffic router.
type Router struct {
	version string
}

// New returns an App Mesh router for CRDs of the given version ("" means
// v1beta2).
func New(crdVersion string) trafficrouting.Router {
	if crdVersion == "" {
		crdVersion = DefaultVersion
	}
	return &Router{version: crdVersion}
}

func (r *Router) gvr(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: Group, Version: r.version, Resource: resource}
}

// VirtualServices, VirtualRouters and VirtualNodes are the GVRs the router
// reads; it writes the last two.
func (r *Router) VirtualServices() schema.GroupVersionResource { return r.gvr("virtualservices") }

// VirtualRouters is the GVR of VirtualRouters.
func (r *Router) VirtualRouters() schema.GroupVersionResource { return r.gvr("virtualrouters") }

// VirtualNodes is the GVR of VirtualNodes.
func (r *Router) VirtualNodes() schema.GroupVersionResource { return r.gvr("virtualnodes") }

// Resources lists the GVRs the router may reference.
func (r *Router) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{r.VirtualServices(), r.VirtualRouters(), r.VirtualNodes()}
}

// Type names the provider.
func (r *Router) Type() string { return "AppMesh" }

func config(ro *v1alpha1.Rollout) *v1alpha1.AppMeshTrafficRouting {
	if tr := trafficrouting.Routing(ro); tr != nil {
		return tr.AppMesh
	}
	return nil
}

// names are the objects a Rollout's App Mesh section names.
type names struct {
	service        string
	canary, stable string
	routes         []string
}

func namesOf(cfg *v1alpha1.AppMeshTrafficRouting) (names, error) {
	var n names
	if cfg.VirtualService == nil || cfg.VirtualService.Name == "" {
		return n, errors.New("appMesh.virtualService.name is required")
	}
	g := cfg.VirtualNodeGroup
	if g == nil || g.CanaryVirtualNodeRef == nil || g.StableVirtualNodeRef == nil ||
		g.CanaryVirtualNodeRef.Name == "" || g.StableVirtualNodeRef.Name == "" {
		return n, errors.New("appMesh.virtualNodeGroup needs canaryVirtualNodeRef and stableVirtualNodeRef")
	}
	return names{service: cfg.VirtualService.Name, canary: g.CanaryVirtualNodeRef.Name, stable: g.StableVirtualNodeRef.Name, routes: cfg.VirtualService.Routes}, nil
}

// References names the VirtualService and the two VirtualNodes, in the
// Rollout's namespace.
func (r *Router) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	n, err := namesOf(cfg)
	if err != nil {
		return nil
	}
	return []trafficrouting.Ref{
		{Resource: r.VirtualServices(), Namespace: ro.Namespace, Name: n.service},
		{Resource: r.VirtualNodes(), Namespace: ro.Namespace, Name: n.canary},
		{Resource: r.VirtualNodes(), Namespace: ro.Namespace, Name: n.stable},
	}
}

// Follow names the VirtualRouter that provides the VirtualService.
func (r *Router) Follow(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) []trafficrouting.Ref {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	n, err := namesOf(cfg)
	if err != nil {
		return nil
	}
	vs := observed[trafficrouting.Ref{Resource: r.VirtualServices(), Namespace: ro.Namespace, Name: n.service}]
	if vs == nil {
		return nil
	}
	ref, err := r.routerRef(vs)
	if err != nil {
		return nil
	}
	return []trafficrouting.Ref{ref}
}

// routerRef reads spec.provider.virtualRouter.virtualRouterRef; its
// namespace defaults to the VirtualService's.
func (r *Router) routerRef(vs *unstructured.Unstructured) (trafficrouting.Ref, error) {
	m, found, _ := unstructured.NestedMap(vs.Object, "spec", "provider", "virtualRouter", "virtualRouterRef")
	name, _ := m["name"].(string)
	if !found || name == "" {
		return trafficrouting.Ref{}, fmt.Errorf("VirtualService %q is not associated with a virtual-router", vs.GetName())
	}
	ns, _ := m["namespace"].(string)
	if ns == "" {
		ns = vs.GetNamespace()
	}
	return trafficrouting.Ref{Resource: r.VirtualRouters(), Namespace: ns, Name: name}, nil
}

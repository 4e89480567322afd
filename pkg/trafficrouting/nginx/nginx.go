// Package nginx splits traffic with ingress-nginx canary annotations: for
// every stable Ingress the Rollout names, it keeps a canary Ingress that
// copies the rules sending to the stable Service, sends them to the canary
// Service instead, and carries the canary weight.
package nginx

import (
	"cmp"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// DefaultAPIVersion is the Ingress API used when New is given none.
const DefaultAPIVersion = "networking.k8s.io/v1"

// DefaultAnnotationPrefix is the prefix of ingress-nginx annotations.
const DefaultAnnotationPrefix = "nginx.ingress.kubernetes.io"

// canarySuffix ends the name of every canary Ingress.
const canarySuffix = "-canary"

// Router is the ingress-nginx traffic router.
type Router struct {
	gvr schema.GroupVersionResource
}

// New returns an nginx router for Ingresses of the given API version,
// "networking.k8s.io/v1" (the default for "") or "extensions/v1beta1".
func New(apiVersion string) trafficrouting.Router {
	if apiVersion == "" {
		apiVersion = DefaultAPIVersion
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		gv = schema.GroupVersion{Group: "networking.k8s.io", Version: "v1"}
	}
	return &Router{gvr: gv.WithResource("ingresses")}
}

// Ingresses is the GVR the router reads and writes.
func (r *Router) Ingresses() schema.GroupVersionResource { return r.gvr }

// Resources lists the GVRs the router may reference.
func (r *Router) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{r.gvr}
}

// legacy tells whether backends use the extensions/v1beta1 shape
// (serviceName) rather than networking.k8s.io/v1 (service.name).
func (r *Router) legacy() bool { return r.gvr.Group == "extensions" }

// Type names the provider.
func (r *Router) Type() string { return "Nginx" }

func config(ro *v1alpha1.Rollout) *v1alpha1.NginxTrafficRouting {
	if tr := trafficrouting.Routing(ro); tr != nil {
		return tr.Nginx
	}
	return nil
}

func stableIngresses(cfg *v1alpha1.NginxTrafficRouting) []string {
	return trafficrouting.Names(cfg.StableIngresses, cfg.StableIngress)
}

func prefix(cfg *v1alpha1.NginxTrafficRouting) string {
	return cmp.Or(cfg.AnnotationPrefix, DefaultAnnotationPrefix)
}

// CanaryIngressName is "<rollout>-<stable ingress>-canary", the first part
// cut so that the whole fits in 253 characters.
func CanaryIngressName(rollout, stableIngress string) string {
	base := rollout + "-" + stableIngress
	if limit := 253 - len(canarySuffix); len(base) > limit {
		base = base[:limit]
	}
	return base + canarySuffix
}

func (r *Router) ref(ns, name string) trafficrouting.Ref {
	return trafficrouting.Ref{Resource: r.gvr, Namespace: ns, Name: name}
}

// References names each stable Ingress and the canary Ingress made from it.
func (r *Router) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	var refs []trafficrouting.Ref
	for _, name := range stableIngresses(cfg) {
		refs = append(refs, r.ref(ro.Namespace, name), r.ref(ro.Namespace, CanaryIngressName(ro.Name, name)))
	}
	return refs
}

// Validate checks that every stable Ingress exists and sends to the stable
// Service, and that a canary Ingress of the same name is this Rollout's.
func (r *Router) Validate(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) error {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	c := ro.Spec.Strategy.Canary
	d := trafficrouting.Desired{StableService: c.StableService, CanaryService: c.CanaryService}
	for _, name := range stableIngresses(cfg) {
		stable := observed[r.ref(ro.Namespace, name)]
		if stable == nil {
			return fmt.Errorf("stable Ingress %q not found", ro.Namespace+"/"+name)
		}
		canaryName := CanaryIngressName(ro.Name, name)
		if canary := observed[r.ref(ro.Namespace, canaryName)]; canary != nil && !trafficrouting.IsControlledBy(canary, ro) {
			return fmt.Errorf("canary Ingress %q is controlled by another object", ro.Namespace+"/"+canaryName)
		}
		if _, err := r.canarySpec(stable, name, d); err != nil {
			return err
		}
	}
	return nil
}

// Plan creates and updates the canary Ingresses. As in Argo Rollouts, none
// is deleted: a promoted Rollout keeps its canary Ingress at weight 0, and
// the Rollout's deletion takes it (it is the Ingress's owner).
func (r *Router) Plan(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	cfg := config(ro)
	if cfg == nil {
		return trafficrouting.Writes{}, nil
	}
	header, err := headerAnnotations(prefix(cfg), d.HeaderRoutes)
	if err != nil {
		return trafficrouting.Writes{}, err
	}
	var w trafficrouting.Writes
	for _, name := range stableIngresses(cfg) {
		stable := observed[r.ref(ro.Namespace, name)]
		if stable == nil {
			return trafficrouting.Writes{}, fmt.Errorf("stable Ingress %q not found", ro.Namespace+"/"+name)
		}
		canaryName := CanaryIngressName(ro.Name, name)
		canary := observed[r.ref(ro.Namespace, canaryName)]
		if canary != nil && !trafficrouting.IsControlledBy(canary, ro) {
			return trafficrouting.Writes{}, fmt.Errorf("canary Ingress %q is controlled by another object", ro.Namespace+"/"+canaryName)
		}
		spec, err := r.canarySpec(stable, name, d)
		if err != nil {
			return trafficrouting.Writes{}, err
		}
		annotations := desiredAnnotations(ro, cfg, stable, d, header)
		if canary == nil {
			w.Creates = append(w.Creates, trafficrouting.Change{Ref: r.ref(ro.Namespace, canaryName), Unstructured: r.newCanary(ro, canaryName, annotations, spec)})
			continue
		}
		updated := canary.DeepCopy()
		updated.SetAnnotations(mergeAnnotations(canary.GetAnnotations(), annotations, prefix(cfg)))
		updated.SetLabels(nil)
		updated.Object["spec"] = spec
		if !trafficrouting.SameContent(updated, canary) {
			w.Updates = append(w.Updates, trafficrouting.Change{Ref: r.ref(ro.Namespace, canaryName), Unstructured: updated})
		}
	}
	if w.Empty() {
		return trafficrouting.Writes{}, nil
	}
	return w, nil
}

func (r *Router) newCanary(ro *v1alpha1.Rollout, name string, annotations map[string]string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetAPIVersion(r.gvr.GroupVersion().String())
	u.SetKind("Ingress")
	u.SetName(name)
	u.SetNamespace(ro.Namespace)
	u.SetAnnotations(annotations)
	u.SetOwnerReferences([]metav1.OwnerReference{trafficrouting.ControllerRef(ro)})
	return u
}

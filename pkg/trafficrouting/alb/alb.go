// Package alb splits traffic with the AWS Load Balancer Controller: the
// Ingresses a Rollout names carry, in an actions.<service> annotation, a
// forward action with weighted target groups for the stable and canary
// Services (and experiment Services), and for each header route in force
// an actions.<route> and a conditions.<route> annotation with a path that
// uses them. The Ingress's rules are the user's; only those paths are
// added and removed.
package alb

import (
	"cmp"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

const (
	// DefaultAPIVersion is the Ingress API used when New is given none.
	DefaultAPIVersion = "networking.k8s.io/v1"
	// DefaultAnnotationPrefix is the prefix of the AWS Load Balancer
	// Controller's annotations.
	DefaultAnnotationPrefix = "alb.ingress.kubernetes.io"
	// ManagedAnnotations lists, per Rollout, the annotations it manages on
	// an Ingress (JSON: rollout name to annotation keys).
	ManagedAnnotations = "rollouts.argoproj.io/managed-alb-annotations"
	// ManagedActions is the older, comma-separated form of the same list,
	// which Argo Rollouts no longer writes.
	ManagedActions = "rollouts.argoproj.io/managed-alb-actions"
)

// Router is the AWS ALB traffic router.
type Router struct {
	gvr schema.GroupVersionResource
}

// New returns an ALB router for Ingresses of the given API version,
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

// Type names the provider.
func (r *Router) Type() string { return "ALB" }

// Resources lists the GVRs the router may reference.
func (r *Router) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{r.gvr}
}

func (r *Router) legacy() bool { return r.gvr.Group == "extensions" }

// Config returns the Rollout's ALB section, or nil.
func Config(ro *v1alpha1.Rollout) *v1alpha1.ALBTrafficRouting {
	if tr := trafficrouting.Routing(ro); tr != nil {
		return tr.ALB
	}
	return nil
}

// Ingresses are the names of the Ingresses the Rollout splits traffic on:
// ingresses when set, else ingress.
func Ingresses(cfg *v1alpha1.ALBTrafficRouting) []string {
	return trafficrouting.Names(cfg.Ingresses, cfg.Ingress)
}

func prefix(cfg *v1alpha1.ALBTrafficRouting) string {
	return cmp.Or(cfg.AnnotationPrefix, DefaultAnnotationPrefix)
}

// ActionService is the Service whose rules carry the weighted forward
// action: rootService, or else the stable Service of the spec.
func ActionService(ro *v1alpha1.Rollout) string {
	if cfg := Config(ro); cfg != nil && cfg.RootService != "" {
		return cfg.RootService
	}
	return ro.Spec.Strategy.Canary.StableService
}

func actionKey(cfg *v1alpha1.ALBTrafficRouting, name string) string {
	return prefix(cfg) + "/actions." + name
}

func conditionKey(cfg *v1alpha1.ALBTrafficRouting, name string) string {
	return prefix(cfg) + "/conditions." + name
}

func (r *Router) ref(ns, name string) trafficrouting.Ref {
	return trafficrouting.Ref{Resource: r.gvr, Namespace: ns, Name: name}
}

// References names each Ingress of the Rollout.
func (r *Router) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	cfg := Config(ro)
	if cfg == nil {
		return nil
	}
	var refs []trafficrouting.Ref
	for _, name := range Ingresses(cfg) {
		refs = append(refs, r.ref(ro.Namespace, name))
	}
	return refs
}

// Validate checks that every Ingress exists and has a rule that sends to
// the action Service, and that the stickiness settings are in range.
func (r *Router) Validate(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) error {
	cfg := Config(ro)
	if cfg == nil {
		return nil
	}
	if len(Ingresses(cfg)) == 0 {
		return fmt.Errorf("the ALB router needs ingress or ingresses")
	}
	if _, err := stickinessOf(cfg); err != nil {
		return err
	}
	for _, name := range Ingresses(cfg) {
		if _, err := r.ingress(ro, observed, name); err != nil {
			return err
		}
	}
	return nil
}

// ingress returns the observed Ingress, or an error when it is missing or
// has no rule sending to the action Service.
func (r *Router) ingress(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, name string) (*unstructured.Unstructured, error) {
	ing := observed[r.ref(ro.Namespace, name)]
	if ing == nil {
		return nil, fmt.Errorf("Ingress %q not found", ro.Namespace+"/"+name)
	}
	if svc := ActionService(ro); !r.hasBackend(ing, svc) {
		return nil, fmt.Errorf("ingress %q does not have service `%s` in rules", ro.Namespace+"/"+name, svc)
	}
	return ing, nil
}

// Plan writes the forward action with the desired weights and the header
// routes in force into every Ingress, and removes the header routes no
// longer in force. An Ingress already as desired is not written.
func (r *Router) Plan(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	cfg := Config(ro)
	if cfg == nil {
		return trafficrouting.Writes{}, nil
	}
	var w trafficrouting.Writes
	for _, name := range Ingresses(cfg) {
		ing, err := r.ingress(ro, observed, name)
		if err != nil {
			return trafficrouting.Writes{}, err
		}
		updated, err := r.desired(ro, cfg, ing, d)
		if err != nil {
			return trafficrouting.Writes{}, fmt.Errorf("Ingress %q: %w", ro.Namespace+"/"+name, err)
		}
		if !trafficrouting.SameContent(updated, ing) {
			w.Updates = append(w.Updates, trafficrouting.Change{Ref: r.ref(ro.Namespace, name), Unstructured: updated})
		}
	}
	return w, nil
}

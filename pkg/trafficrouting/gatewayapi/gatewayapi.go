// Package gatewayapi splits traffic with Gateway API routes, configured as
// for the Argo Rollouts Gateway API plugin (trafficRouting.plugins
// ["argoproj-labs/gatewayAPI"]) but run natively.
//
// The weights of the stable and canary backendRefs are set in every rule
// that references them. Header routes become extra rules, one per rule
// that sends to both Services, appended to HTTPRoutes and GRPCRoutes that
// take header routes. Such a rule is marked by its Gateway API rule name:
// the managed route's name for the first, "<name>-<n>" for the next ones,
// as the plugin names them. Unnamed rules with a single backendRef to the
// canary Service, which older plugin versions left, count as managed too.
package gatewayapi

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Group is the Gateway API group.
const Group = "gateway.networking.k8s.io"

// Options picks the API versions to use. The zero value uses v1 for HTTP
// and gRPC routes and v1alpha2 for TCP and TLS routes, as the plugin does.
type Options struct {
	Version   string
	L4Version string
}

// kind describes one route kind.
type kind struct {
	name     string
	resource string
	headers  bool
	grpc     bool
}

var (
	httpKind = kind{name: "HTTPRoute", resource: "httproutes", headers: true}
	grpcKind = kind{name: "GRPCRoute", resource: "grpcroutes", headers: true, grpc: true}
	tcpKind  = kind{name: "TCPRoute", resource: "tcproutes"}
	tlsKind  = kind{name: "TLSRoute", resource: "tlsroutes"}
)

// Router is the Gateway API traffic router.
type Router struct {
	opts Options
}

// New returns a Gateway API router.
func New(o Options) trafficrouting.Router {
	if o.Version == "" {
		o.Version = "v1"
	}
	if o.L4Version == "" {
		o.L4Version = "v1alpha2"
	}
	return &Router{opts: o}
}

func (r *Router) gvr(k kind) schema.GroupVersionResource {
	v := r.opts.Version
	if !k.headers {
		v = r.opts.L4Version
	}
	return schema.GroupVersionResource{Group: Group, Version: v, Resource: k.resource}
}

// Resources lists the GVRs the router may reference.
func (r *Router) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{r.gvr(httpKind), r.gvr(grpcKind), r.gvr(tcpKind), r.gvr(tlsKind)}
}

// Type names the provider.
func (r *Router) Type() string { return "GatewayAPI" }

type target struct {
	kind kind
	ref  routeRef
}

func targets(cfg *pluginConfig) []target {
	var out []target
	for _, l := range []struct {
		k    kind
		list []routeRef
	}{{httpKind, cfg.HTTPRoutes}, {grpcKind, cfg.GRPCRoutes}, {tcpKind, cfg.TCPRoutes}, {tlsKind, cfg.TLSRoutes}} {
		for _, ref := range l.list {
			out = append(out, target{l.k, ref})
		}
	}
	return out
}

func (r *Router) ref(cfg *pluginConfig, t target) trafficrouting.Ref {
	return trafficrouting.Ref{Resource: r.gvr(t.kind), Namespace: cfg.Namespace, Name: t.ref.Name}
}

// References names the configured routes, and stands for the selected
// ones with a selector reference; a configuration that cannot be read names
// none, and Plan reports why.
func (r *Router) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	cfg, err := parse(ro)
	if err != nil || cfg == nil {
		return nil
	}
	var refs []trafficrouting.Ref
	for _, t := range targets(cfg) {
		refs = append(refs, r.ref(cfg, t))
	}
	return append(refs, r.selectorRefs(cfg)...)
}

// routes are the named routes, then the selected ones.
func (r *Router) routes(cfg *pluginConfig, observed map[trafficrouting.Ref]*unstructured.Unstructured) []target {
	named := targets(cfg)
	return append(named, r.selected(cfg, named, observed)...)
}

// Validate checks the plugin configuration and that every configured route
// exists and sends to both the stable and the canary Service.
func (r *Router) Validate(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) error {
	cfg, err := parse(ro)
	if err != nil || cfg == nil {
		return err
	}
	c := ro.Spec.Strategy.Canary
	d := trafficrouting.Desired{StableService: c.StableService, CanaryService: c.CanaryService}
	p := &planner{cfg: cfg, d: d, managed: trafficrouting.ManagedRouteNames(ro), mirrors: mirrorNames(ro, d)}
	for _, t := range r.routes(cfg, observed) {
		ref := r.ref(cfg, t)
		obj := observed[ref]
		if obj == nil {
			return fmt.Errorf("%s %q not found", t.kind.name, ref.Namespace+"/"+ref.Name)
		}
		if err := p.check(obj, t); err != nil {
			return fmt.Errorf("%s %q: %v", t.kind.name, ref.Namespace+"/"+ref.Name, err)
		}
	}
	return nil
}

// Plan sets the weights, header rules and in-progress label of every
// configured route.
func (r *Router) Plan(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	cfg, err := parse(ro)
	if err != nil || cfg == nil {
		return trafficrouting.Writes{}, err
	}
	p := &planner{cfg: cfg, d: d, managed: trafficrouting.ManagedRouteNames(ro), mirrors: mirrorNames(ro, d)}
	var w trafficrouting.Writes
	for _, t := range r.routes(cfg, observed) {
		ref := r.ref(cfg, t)
		obj := observed[ref]
		if obj == nil {
			return trafficrouting.Writes{}, fmt.Errorf("%s %q not found", t.kind.name, ref.Namespace+"/"+ref.Name)
		}
		planned, err := p.plan(obj, t)
		if err != nil {
			return trafficrouting.Writes{}, fmt.Errorf("%s %q: %v", t.kind.name, ref.Namespace+"/"+ref.Name, err)
		}
		if !trafficrouting.SameContent(planned, obj) {
			w.Updates = append(w.Updates, trafficrouting.Change{Ref: ref, Unstructured: planned})
		}
	}
	return w, nil
}

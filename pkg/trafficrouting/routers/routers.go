// Package routers picks the traffic routers a Rollout enables. It lives
// apart from package trafficrouting because every router imports that
// package.
package routers

import (
	"maps"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
	"github.com/serin-dev/serin/pkg/trafficrouting/ambassador"
	"github.com/serin-dev/serin/pkg/trafficrouting/apisix"
	"github.com/serin-dev/serin/pkg/trafficrouting/appmesh"
	"github.com/serin-dev/serin/pkg/trafficrouting/gatewayapi"
	"github.com/serin-dev/serin/pkg/trafficrouting/istio"
	"github.com/serin-dev/serin/pkg/trafficrouting/nginx"
	"github.com/serin-dev/serin/pkg/trafficrouting/pluginrouter"
	"github.com/serin-dev/serin/pkg/trafficrouting/smi"
	"github.com/serin-dev/serin/pkg/trafficrouting/traefik"
)

// Config holds the API versions the routers use. The zero value means the
// Argo Rollouts defaults: Istio v1alpha3, networking.k8s.io/v1 Ingresses,
// SMI v1alpha1, Gateway API v1 (v1alpha2 for TCP and TLS routes).
type Config struct {
	IstioAPIVersion   string
	IngressAPIVersion string
	SMIAPIVersion     string
	GatewayAPI        gatewayapi.Options
	// NginxIngressClasses are the ingress classes of the NGINX controller
	// (default: nginx). Only a change to an Ingress of one of them re-runs
	// the Rollouts that use it, as in Argo Rollouts.
	NginxIngressClasses []string
	// ALBIngressClasses are the ingress classes of the AWS Load Balancer
	// Controller (default: alb), likewise.
	ALBIngressClasses []string
	// AmbassadorAPIVersion, TraefikAPIGroup, TraefikAPIVersion and
	// AppMeshCRDVersion are Argo Rollouts' --ambassador-api-version,
	// --traefik-api-group, --traefik-api-version and --appmesh-crd-version
	// ("" for their defaults).
	AmbassadorAPIVersion string
	TraefikAPIGroup      string
	TraefikAPIVersion    string
	AppMeshCRDVersion    string

	// PluginConfigured tells whether a traffic-router plugin of this name
	// is configured in argo-rollouts-config. nil: none is.
	PluginConfigured func(name string) bool
}

// plugin tells whether the traffic-router plugin name is configured.
func (c Config) plugin(name string) bool {
	return c.PluginConfigured != nil && c.PluginConfigured(name)
}

// ChangeMatters tells whether a change to a cached traffic-routing object
// of resource gvr should re-run the Rollouts that use it: for Ingresses,
// only those of an NGINX class; every other kind always.
func (c Config) ChangeMatters(gvr schema.GroupVersionResource, obj *unstructured.Unstructured) bool {
	if gvr.Resource != "ingresses" {
		return true
	}
	classes := c.NginxIngressClasses
	if len(classes) == 0 {
		classes = []string{"nginx"}
	}
	albClasses := c.ALBIngressClasses
	if len(albClasses) == 0 {
		albClasses = []string{"alb"}
	}
	class, _, _ := unstructured.NestedString(obj.Object, "spec", "ingressClassName")
	if class == "" {
		class = obj.GetAnnotations()["kubernetes.io/ingress.class"]
	}
	return slices.Contains(classes, class) || slices.Contains(albClasses, class)
}

// ForRollout returns the routers a Rollout's spec enables, with the
// default API versions.
func ForRollout(ro *v1alpha1.Rollout) []trafficrouting.Router {
	return Config{}.ForRollout(ro)
}

// ForRollout returns the routers a Rollout's spec enables, in the order
// Argo Rollouts runs them: Istio, nginx, ALB, SMI, Ambassador, App Mesh,
// Traefik, APISIX, then the plugins. The Gateway API plugin is Serin's
// built-in router unless a plugin of that name is configured, whose binary
// then runs instead. Configured plugins come in the order of their names;
// plugins that are not configured are left out (Unsupported names them).
func (c Config) ForRollout(ro *v1alpha1.Rollout) []trafficrouting.Router {
	tr := trafficrouting.Routing(ro)
	if tr == nil {
		return nil
	}
	var out []trafficrouting.Router
	if tr.Istio != nil {
		out = append(out, istio.New(c.IstioAPIVersion))
	}
	if tr.Nginx != nil {
		out = append(out, nginx.New(c.IngressAPIVersion))
	}
	if tr.ALB != nil {
		out = append(out, alb.New(c.IngressAPIVersion))
	}
	if tr.SMI != nil {
		out = append(out, smi.New(c.SMIAPIVersion))
	}
	out = append(out, c.meshRouters(tr)...)
	if gatewayapi.Enabled(ro) && !c.plugin(gatewayapi.PluginName) {
		out = append(out, gatewayapi.New(c.GatewayAPI))
	}
	for _, name := range slices.Sorted(maps.Keys(tr.Plugins)) {
		if c.plugin(name) {
			out = append(out, pluginrouter.New(name))
		}
	}
	return out
}

// Unsupported names, with the default configuration (no plugin
// configured), the providers a Rollout configures that no router handles.
func Unsupported(ro *v1alpha1.Rollout) []string { return Config{}.Unsupported(ro) }

// Unsupported names the providers a Rollout configures that no router here
// handles (none of the built-in providers today) and the plugins it names
// that are not configured ("plugins.<name>"), so the caller can report
// them instead of silently not splitting traffic.
func (c Config) Unsupported(ro *v1alpha1.Rollout) []string {
	tr := trafficrouting.Routing(ro)
	if tr == nil {
		return nil
	}
	var plugins []string
	for name := range tr.Plugins {
		if name != gatewayapi.PluginName && !c.plugin(name) {
			plugins = append(plugins, "plugins."+name)
		}
	}
	sort.Strings(plugins)
	return plugins
}

// Resources lists every GVR the routers may reference, so that informers
// can be started for them. The ALB router reads the same Ingresses as
// nginx, so it adds none.
func (c Config) Resources() []schema.GroupVersionResource {
	var out []schema.GroupVersionResource
	for _, r := range []trafficrouting.Router{
		istio.New(c.IstioAPIVersion),
		nginx.New(c.IngressAPIVersion),
		smi.New(c.SMIAPIVersion),
		gatewayapi.New(c.GatewayAPI),
		ambassador.New(c.AmbassadorAPIVersion),
		appmesh.New(c.AppMeshCRDVersion),
		traefik.New(c.TraefikAPIGroup, c.TraefikAPIVersion),
		apisix.New(),
	} {
		out = append(out, r.Resources()...)
	}
	return out
}

// meshRouters are the Ambassador, App Mesh, Traefik and APISIX routers the
// traffic-routing section enables, in Argo Rollouts' order.
func (c Config) meshRouters(tr *v1alpha1.RolloutTrafficRouting) []trafficrouting.Router {
	var out []trafficrouting.Router
	if tr.Ambassador != nil {
		out = append(out, ambassador.New(c.AmbassadorAPIVersion))
	}
	if tr.AppMesh != nil {
		out = append(out, appmesh.New(c.AppMeshCRDVersion))
	}
	if tr.Traefik != nil {
		out = append(out, traefik.New(c.TraefikAPIGroup, c.TraefikAPIVersion))
	}
	if tr.Apisix != nil {
		out = append(out, apisix.New())
	}
	return out
}

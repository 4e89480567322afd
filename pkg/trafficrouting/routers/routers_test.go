package routers

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

func TestForRollout(t *testing.T) {
	ro := trtest.Rollout(t, `
metadata: {name: multi, namespace: ns}
spec:
  strategy:
    canary:
      stableService: s
      canaryService: c
      trafficRouting:
        istio: {virtualService: {name: vs}}
        nginx: {stableIngress: web}
        smi: {}
        alb: {ingress: web, servicePort: 80}
        ambassador: {mappings: [m]}
        appMesh: {virtualService: {name: vs}}
        traefik: {weightedTraefikServiceName: t}
        apisix: {route: {name: r}}
        plugins:
          argoproj-labs/gatewayAPI: {httpRoute: r}
          example.com/other: {}
`)
	var types []string
	for _, r := range ForRollout(ro) {
		types = append(types, r.Type())
	}
	if got := strings.Join(types, ","); got != "Istio,Nginx,ALB,SMI,Ambassador,AppMesh,Traefik,Apisix,GatewayAPI" {
		t.Fatalf("routers %s", got)
	}
	if got := strings.Join(Unsupported(ro), ","); got != "plugins.example.com/other" {
		t.Fatalf("unsupported %s", got)
	}
	if n := len(ForRollout(trtest.Rollout(t, `{metadata: {name: plain}}`))); n != 0 {
		t.Fatalf("no traffic routing, got %d routers", n)
	}
}

func TestResources(t *testing.T) {
	var got []string
	for _, gvr := range (Config{IstioAPIVersion: "v1beta1", AmbassadorAPIVersion: "x.getambassador.io/v3alpha1",
		AppMeshCRDVersion: "v1beta3", TraefikAPIGroup: "traefik.containo.us", TraefikAPIVersion: "traefik.containo.us/v1alpha1"}).Resources() {
		got = append(got, gvr.String())
	}
	want := strings.Join([]string{
		"networking.istio.io/v1beta1, Resource=virtualservices",
		"networking.istio.io/v1beta1, Resource=destinationrules",
		"networking.k8s.io/v1, Resource=ingresses",
		"split.smi-spec.io/v1alpha1, Resource=trafficsplits",
		"gateway.networking.k8s.io/v1, Resource=httproutes",
		"gateway.networking.k8s.io/v1, Resource=grpcroutes",
		"gateway.networking.k8s.io/v1alpha2, Resource=tcproutes",
		"gateway.networking.k8s.io/v1alpha2, Resource=tlsroutes",
		"x.getambassador.io/v3alpha1, Resource=ambassadormappings",
		"appmesh.k8s.aws/v1beta3, Resource=virtualservices",
		"appmesh.k8s.aws/v1beta3, Resource=virtualrouters",
		"appmesh.k8s.aws/v1beta3, Resource=virtualnodes",
		"traefik.containo.us/v1alpha1, Resource=traefikservices",
		"apisix.apache.org/v2, Resource=apisixroutes",
	}, "\n")
	if strings.Join(got, "\n") != want {
		t.Fatalf("Resources:\n%s", strings.Join(got, "\n"))
	}
}

func TestOnlyIngressesOfAnNginxClassRerunRollouts(t *testing.T) {
	ingresses := schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	byName := trtest.Obj(t, `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: a}, spec: {ingressClassName: internal}}`)
	byAnnotation := trtest.Obj(t, `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: b, annotations: {kubernetes.io/ingress.class: nginx}}}`)
	noClass := trtest.Obj(t, `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: c}}`)
	vs := trtest.Obj(t, `{apiVersion: networking.istio.io/v1alpha3, kind: VirtualService, metadata: {name: d}}`)

	defaults := Config{}
	if defaults.ChangeMatters(ingresses, byName) || !defaults.ChangeMatters(ingresses, byAnnotation) || defaults.ChangeMatters(ingresses, noClass) {
		t.Fatal("with the default class nginx, only the Ingress annotated nginx matters")
	}
	internal := Config{NginxIngressClasses: []string{"internal"}}
	if !internal.ChangeMatters(ingresses, byName) || internal.ChangeMatters(ingresses, byAnnotation) {
		t.Fatal("with --nginx-ingress-classes=internal, only the Ingress of class internal matters")
	}
	alb := trtest.Obj(t, `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: e}, spec: {ingressClassName: alb}}`)
	if !defaults.ChangeMatters(ingresses, alb) || (Config{ALBIngressClasses: []string{"internal-alb"}}).ChangeMatters(ingresses, alb) {
		t.Fatal("with the default ALB class alb, an Ingress of class alb matters, and not once --alb-ingress-classes names another")
	}
	if !internal.ChangeMatters(schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "virtualservices"}, vs) {
		t.Fatal("a change to a VirtualService always matters")
	}
}

func TestConfiguredPluginsRouteAndTheGatewayAPIPluginReplacesTheBuiltIn(t *testing.T) {
	ro := trtest.Rollout(t, `
metadata: {name: plugged, namespace: ns}
spec:
  strategy:
    canary:
      stableService: s
      canaryService: c
      trafficRouting:
        nginx: {stableIngress: web}
        plugins:
          argoproj-labs/gatewayAPI: {httpRoute: r}
          example.com/b: {}
          example.com/a: {}
          example.com/missing: {}
`)
	configured := map[string]bool{"example.com/a": true, "example.com/b": true}
	describe := func(c Config) string {
		var out []string
		for _, r := range c.ForRollout(ro) {
			if p, ok := r.(interface{ Plugin() string }); ok {
				out = append(out, r.Type()+"("+p.Plugin()+")")
				continue
			}
			out = append(out, r.Type())
		}
		return strings.Join(out, ",")
	}
	c := Config{PluginConfigured: func(name string) bool { return configured[name] }}
	if got := describe(c); got != "Nginx,GatewayAPI,RPCPlugin(example.com/a),RPCPlugin(example.com/b)" {
		t.Fatalf("routers %s", got)
	}
	if got := strings.Join(c.Unsupported(ro), ","); got != "plugins.example.com/missing" {
		t.Fatalf("unsupported %s", got)
	}
	configured["argoproj-labs/gatewayAPI"] = true
	if got := describe(c); got != "Nginx,RPCPlugin(argoproj-labs/gatewayAPI),RPCPlugin(example.com/a),RPCPlugin(example.com/b)" {
		t.Fatalf("with the Gateway API plugin configured, routers %s", got)
	}
}

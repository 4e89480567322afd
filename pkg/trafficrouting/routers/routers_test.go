package routers

import (
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
        plugins:
          argoproj-labs/gatewayAPI: {httpRoute: r}
          example.com/other: {}
`)
	var types []string
	for _, r := range ForRollout(ro) {
		types = append(types, r.Type())
	}
	if got := strings.Join(types, ","); got != "Istio,Nginx,SMI,GatewayAPI" {
		t.Fatalf("routers %s", got)
	}
	if got := strings.Join(Unsupported(ro), ","); got != "alb,plugins.example.com/other" {
		t.Fatalf("unsupported %s", got)
	}
	if n := len(ForRollout(trtest.Rollout(t, `{metadata: {name: plain}}`))); n != 0 {
		t.Fatalf("no traffic routing, got %d routers", n)
	}
}

func TestResources(t *testing.T) {
	var got []string
	for _, gvr := range (Config{IstioAPIVersion: "v1beta1"}).Resources() {
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
	}, "\n")
	if strings.Join(got, "\n") != want {
		t.Fatalf("Resources:\n%s", strings.Join(got, "\n"))
	}
}

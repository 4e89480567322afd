package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TraefikVersion is the Traefik release whose TraefikService CRD the
// routers suite installs, from the github.com/traefik/traefik/v3 module.
const TraefikVersion = "v3.7.13"

// RouterCRDs are the CRDs of the traffic routers that Argo Rollouts drives
// through their own kinds: Traefik's TraefikService from the Traefik
// module, as Traefik publishes it; Emissary-ingress (Ambassador), Apache
// APISIX and AWS App Mesh from the schemas below, because the Go module
// proxy serves none of those projects' modules.
func RouterCRDs(ctx context.Context) ([]*unstructured.Unstructured, error) {
	dir, err := moduleDir(ctx, "github.com/traefik/traefik/v3", TraefikVersion)
	if err != nil {
		return nil, err
	}
	objs, err := readObjects([]string{filepath.Join(dir, "docs", "content", "reference", "dynamic-configuration", "traefik.io_traefikservices.yaml")})
	if err != nil {
		return nil, err
	}
	for _, doc := range writtenRouterCRDs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			return nil, fmt.Errorf("router CRD: %w", err)
		}
		objs = append(objs, u)
	}
	return objs, nil
}

// The written CRDs follow the projects' API references: group, kinds,
// scope, served versions, the status subresource, and the spec fields the
// routers read and write typed as documented; every other field is kept
// as written.
var writtenRouterCRDs = []string{
	// Emissary-ingress 3.x serves Mappings as getambassador.io v2 and
	// v3alpha1 (v2 stored); spec.weight is an integer percentage and
	// spec.service "name[.namespace][:port]".
	writtenCRD("getambassador.io", "Mapping", "mappings", "Namespaced", []string{"v2", "v3alpha1"}, `
service: {type: string}
prefix: {type: string}
weight: {type: integer, minimum: 0, maximum: 100}`),
	writtenCRD("getambassador.io", "KubernetesEndpointResolver", "kubernetesendpointresolvers", "Namespaced", []string{"v2", "v3alpha1"}, ``),
	// APISIX ingress controller: ApisixRoute apisix.apache.org/v2, rules
	// in spec.http with named backends (serviceName, servicePort, weight).
	writtenCRD("apisix.apache.org", "ApisixRoute", "apisixroutes", "Namespaced", []string{"v2"}, `
http:
  type: array
  items:
    type: object
    x-kubernetes-preserve-unknown-fields: true
    required: [name]
    properties:
      name: {type: string}
      priority: {type: integer}
      backends:
        type: array
        items:
          type: object
          x-kubernetes-preserve-unknown-fields: true
          required: [serviceName]
          properties:
            serviceName: {type: string}
            weight: {type: integer, minimum: 0}`),
	// AWS App Mesh controller, appmesh.k8s.aws/v1beta2: the cluster-scoped
	// Mesh and the namespaced VirtualService, VirtualRouter and
	// VirtualNode.
	writtenCRD("appmesh.k8s.aws", "Mesh", "meshes", "Cluster", []string{"v1beta2"}, ``),
	writtenCRD("appmesh.k8s.aws", "VirtualService", "virtualservices", "Namespaced", []string{"v1beta2"}, `
provider:
  type: object
  x-kubernetes-preserve-unknown-fields: true`),
	writtenCRD("appmesh.k8s.aws", "VirtualRouter", "virtualrouters", "Namespaced", []string{"v1beta2"}, `
routes:
  type: array
  items:
    type: object
    x-kubernetes-preserve-unknown-fields: true
    required: [name]
    properties:
      name: {type: string}`),
	writtenCRD("appmesh.k8s.aws", "VirtualNode", "virtualnodes", "Namespaced", []string{"v1beta2"}, `
podSelector:
  type: object
  properties:
    matchLabels:
      type: object
      additionalProperties: {type: string}
    matchExpressions:
      type: array
      items: {type: object, x-kubernetes-preserve-unknown-fields: true}`),
}

// writtenCRD renders a CRD whose versions share one schema: spec with the
// given properties (YAML, indented by the caller as a mapping), status kept
// as written, the first version stored.
func writtenCRD(group, kind, plural, scope string, versions []string, specProps string) string {
	props := "{}"
	if specProps != "" {
		props = indent(specProps, "                ")
	}
	doc := fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %s.%s
spec:
  group: %s
  scope: %s
  names: {kind: %s, listKind: %sList, plural: %s, singular: %s}
  versions:
`, plural, group, group, scope, kind, kind, plural, strings.ToLower(kind))
	for i, v := range versions {
		doc += fmt.Sprintf(`  - name: %s
    served: true
    storage: %t
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties: %s
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
`, v, i == 0, props)
	}
	return doc
}

func indent(s, prefix string) string {
	out := ""
	for _, line := range strings.Split(s, "\n") {
		if line != "" {
			out += "\n" + prefix + line
		}
	}
	return out
}

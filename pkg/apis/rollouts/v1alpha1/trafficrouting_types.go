package v1alpha1

import "encoding/json"

// RolloutTrafficRouting says which mesh, ingress or gateway splits requests
// between the stable and the canary Services. Several may be set at once.
type RolloutTrafficRouting struct {
	// Istio splits traffic with VirtualServices and, optionally, a DestinationRule.
	// +optional
	Istio *IstioTrafficRouting `json:"istio,omitempty"`
	// Nginx splits traffic with a generated canary Ingress.
	// +optional
	Nginx *NginxTrafficRouting `json:"nginx,omitempty"`
	// ALB splits traffic with AWS Load Balancer Controller annotations.
	// +optional
	ALB *ALBTrafficRouting `json:"alb,omitempty"`
	// SMI splits traffic with an SMI TrafficSplit.
	// +optional
	SMI *SMITrafficRouting `json:"smi,omitempty"`
	// Ambassador splits traffic with Ambassador Mappings.
	// +optional
	Ambassador *AmbassadorTrafficRouting `json:"ambassador,omitempty"`
	// AppMesh splits traffic with AWS App Mesh routes.
	// +optional
	AppMesh *AppMeshTrafficRouting `json:"appMesh,omitempty"`
	// Traefik splits traffic with a weighted TraefikService.
	// +optional
	Traefik *TraefikTrafficRouting `json:"traefik,omitempty"`
	// ManagedRoutes lists, in order of precedence, the routes that header and
	// mirror steps may add.
	// +optional
	ManagedRoutes []ManagedRoute `json:"managedRoutes,omitempty"`
	// Apisix splits traffic with an ApisixRoute.
	// +optional
	Apisix *ApisixTrafficRouting `json:"apisix,omitempty"`
	// Plugins configures traffic router plugins by name. Serin also reads the
	// Gateway API plugin's configuration here and routes it natively.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	Plugins map[string]json.RawMessage `json:"plugins,omitempty"`
	// MaxTrafficWeight is the total of all weights. Defaults to 100.
	// +optional
	MaxTrafficWeight *int32 `json:"maxTrafficWeight,omitempty"`
}

// ManagedRoute names one route that the controller may add and remove.
type ManagedRoute struct {
	// Name of the route.
	Name string `json:"name"`
}

// IstioTrafficRouting configures Istio.
type IstioTrafficRouting struct {
	// VirtualService whose routes carry the split.
	// +optional
	VirtualService *IstioVirtualService `json:"virtualService,omitempty"`
	// DestinationRule whose subsets select the stable and canary pods, for a
	// subset-level split.
	// +optional
	DestinationRule *IstioDestinationRule `json:"destinationRule,omitempty"`
	// VirtualServices, when more than one carries the split.
	// +optional
	VirtualServices []IstioVirtualService `json:"virtualServices,omitempty"`
}

// IstioVirtualService names a VirtualService and the routes in it to split.
type IstioVirtualService struct {
	// Name of the VirtualService, optionally as namespace/name.
	Name string `json:"name"`
	// Routes are the names of HTTP routes to split; may be left out when the
	// VirtualService has a single HTTP route.
	// +optional
	Routes []string `json:"routes,omitempty"`
	// TLSRoutes to split, found by port and SNI hosts.
	// +optional
	TLSRoutes []TLSRoute `json:"tlsRoutes,omitempty"`
	// TCPRoutes to split, found by port.
	// +optional
	TCPRoutes []TCPRoute `json:"tcpRoutes,omitempty"`
}

// TLSRoute finds a TLS route of a VirtualService.
type TLSRoute struct {
	// Port the route matches.
	Port int64 `json:"port,omitempty"`
	// SNIHosts the route matches.
	// +optional
	SNIHosts []string `json:"sniHosts,omitempty"`
}

// TCPRoute finds a TCP route of a VirtualService.
type TCPRoute struct {
	// Port the route matches.
	Port int64 `json:"port,omitempty"`
}

// IstioDestinationRule names a DestinationRule and its stable and canary subsets.
type IstioDestinationRule struct {
	// Name of the DestinationRule.
	Name string `json:"name"`
	// CanarySubsetName is the subset pointed at the canary pods.
	CanarySubsetName string `json:"canarySubsetName"`
	// StableSubsetName is the subset pointed at the stable pods.
	StableSubsetName string `json:"stableSubsetName"`
	// AdditionalSubsetNames are subsets pointed at experiment pods.
	// +optional
	AdditionalSubsetNames []string `json:"additionalSubsetNames,omitempty"`
}

// NginxTrafficRouting configures ingress-nginx.
type NginxTrafficRouting struct {
	// AnnotationPrefix of the nginx annotations. Defaults to nginx.ingress.kubernetes.io.
	// +optional
	AnnotationPrefix string `json:"annotationPrefix,omitempty"`
	// StableIngress is the Ingress that routes to the stable Service.
	// +optional
	StableIngress string `json:"stableIngress,omitempty"`
	// AdditionalIngressAnnotations are added to the canary Ingress under the prefix.
	// +optional
	AdditionalIngressAnnotations map[string]string `json:"additionalIngressAnnotations,omitempty"`
	// StableIngresses, when more than one Ingress routes to the stable Service.
	// +optional
	StableIngresses []string `json:"stableIngresses,omitempty"`
	// CanaryIngressAnnotations are added to the canary Ingress as they are.
	// +optional
	CanaryIngressAnnotations map[string]string `json:"canaryIngressAnnotations,omitempty"`
}

// ALBTrafficRouting configures the AWS Load Balancer Controller.
type ALBTrafficRouting struct {
	// Ingress that routes to the stable Service.
	Ingress string `json:"ingress,omitempty"`
	// ServicePort of the Services the Ingress routes to.
	ServicePort int32 `json:"servicePort"`
	// RootService is the Service the Ingress names, when it is neither the
	// stable nor the canary one.
	// +optional
	RootService string `json:"rootService,omitempty"`
	// AnnotationPrefix of the ALB annotations. Defaults to alb.ingress.kubernetes.io.
	// +optional
	AnnotationPrefix string `json:"annotationPrefix,omitempty"`
	// StickinessConfig configures target-group stickiness.
	// +optional
	StickinessConfig *StickinessConfig `json:"stickinessConfig,omitempty"`
	// Ingresses, when more than one Ingress routes to the stable Service.
	// +optional
	Ingresses []string `json:"ingresses,omitempty"`
}

// StickinessConfig is ALB target-group stickiness.
type StickinessConfig struct {
	// Enabled turns stickiness on.
	Enabled bool `json:"enabled"`
	// DurationSeconds is how long a client sticks to a target group.
	DurationSeconds int64 `json:"durationSeconds"`
}

// SMITrafficRouting configures an SMI TrafficSplit.
type SMITrafficRouting struct {
	// RootService is the Service clients call. Defaults to the stable Service.
	// +optional
	RootService string `json:"rootService,omitempty"`
	// TrafficSplitName is the TrafficSplit to manage. Defaults to the Rollout's name.
	// +optional
	TrafficSplitName string `json:"trafficSplitName,omitempty"`
}

// AmbassadorTrafficRouting configures Ambassador Mappings.
type AmbassadorTrafficRouting struct {
	// Mappings to clone into weighted canary Mappings.
	Mappings []string `json:"mappings"`
}

// AppMeshTrafficRouting configures AWS App Mesh.
type AppMeshTrafficRouting struct {
	// VirtualService whose router carries the split.
	// +optional
	VirtualService *AppMeshVirtualService `json:"virtualService,omitempty"`
	// VirtualNodeGroup names the canary and stable virtual nodes.
	// +optional
	VirtualNodeGroup *AppMeshVirtualNodeGroup `json:"virtualNodeGroup,omitempty"`
}

// AppMeshVirtualService names an App Mesh virtual service and its routes.
type AppMeshVirtualService struct {
	// Name of the virtual service.
	Name string `json:"name"`
	// Routes to split.
	// +optional
	Routes []string `json:"routes,omitempty"`
}

// AppMeshVirtualNodeGroup names the two virtual nodes of a split.
type AppMeshVirtualNodeGroup struct {
	// CanaryVirtualNodeRef is the canary's virtual node.
	CanaryVirtualNodeRef *AppMeshVirtualNodeReference `json:"canaryVirtualNodeRef"`
	// StableVirtualNodeRef is the stable virtual node.
	StableVirtualNodeRef *AppMeshVirtualNodeReference `json:"stableVirtualNodeRef"`
}

// AppMeshVirtualNodeReference names a virtual node.
type AppMeshVirtualNodeReference struct {
	// Name of the virtual node.
	Name string `json:"name"`
}

// TraefikTrafficRouting configures Traefik.
type TraefikTrafficRouting struct {
	// WeightedTraefikServiceName is the weighted TraefikService to manage.
	WeightedTraefikServiceName string `json:"weightedTraefikServiceName"`
}

// ApisixTrafficRouting configures Apache APISIX.
type ApisixTrafficRouting struct {
	// Route is the ApisixRoute to manage.
	// +optional
	Route *ApisixRoute `json:"route,omitempty"`
}

// ApisixRoute names an ApisixRoute and its rules.
type ApisixRoute struct {
	// Name of the ApisixRoute.
	Name string `json:"name"`
	// Rules to split.
	// +optional
	Rules []string `json:"rules,omitempty"`
}

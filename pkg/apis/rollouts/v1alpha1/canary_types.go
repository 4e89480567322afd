package v1alpha1

import (
	"encoding/json"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// CanaryStrategy replaces a revision gradually: the new pods (the canary) get a
// growing share of replicas or traffic, step by step.
type CanaryStrategy struct {
	// CanaryService is a Service whose selector the controller points at the
	// canary pods.
	// +optional
	CanaryService string `json:"canaryService,omitempty"`
	// StableService is a Service whose selector the controller points at the
	// stable pods.
	// +optional
	StableService string `json:"stableService,omitempty"`
	// Steps are run in order for every new revision.
	// +optional
	Steps []CanaryStep `json:"steps,omitempty"`
	// TrafficRouting moves request weights through a mesh, ingress or gateway
	// instead of through replica counts.
	// +optional
	TrafficRouting *RolloutTrafficRouting `json:"trafficRouting,omitempty"`
	// MaxUnavailable is how many pods may be unavailable during the update, as a
	// number or a percentage. Defaults to 25%.
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	// MaxSurge is how many pods may run above the desired count during the
	// update, as a number or a percentage. Defaults to 25%.
	// +optional
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`
	// Analysis runs in the background from StartingStep until the rollout ends.
	// +optional
	Analysis *RolloutAnalysisBackground `json:"analysis,omitempty"`
	// AntiAffinity keeps canary pods off the nodes of the stable revision.
	// +optional
	AntiAffinity *AntiAffinity `json:"antiAffinity,omitempty"`
	// CanaryMetadata is added to canary pods while they are the canary.
	// +optional
	CanaryMetadata *PodTemplateMetadata `json:"canaryMetadata,omitempty"`
	// StableMetadata is added to stable pods.
	// +optional
	StableMetadata *PodTemplateMetadata `json:"stableMetadata,omitempty"`
	// ScaleDownDelaySeconds keeps the previous stable revision running this long
	// after promotion (traffic routing only). Defaults to 30.
	// +optional
	ScaleDownDelaySeconds *int32 `json:"scaleDownDelaySeconds,omitempty"`
	// ScaleDownDelayRevisionLimit caps how many old revisions wait out their
	// scale-down delay at the same time.
	// +optional
	ScaleDownDelayRevisionLimit *int32 `json:"scaleDownDelayRevisionLimit,omitempty"`
	// AbortScaleDownDelaySeconds keeps the canary running this long after an
	// abort (traffic routing only). Defaults to 30; zero keeps it running.
	// +optional
	AbortScaleDownDelaySeconds *int32 `json:"abortScaleDownDelaySeconds,omitempty"`
	// DynamicStableScale shrinks the stable revision as traffic leaves it.
	// +optional
	DynamicStableScale bool `json:"dynamicStableScale,omitempty"`
	// PingPong alternates the stable role between two Services.
	// +optional
	PingPong *PingPongSpec `json:"pingPong,omitempty"`
	// MinPodsPerReplicaSet is the fewest pods a ReplicaSet that has any pods
	// may run (traffic routing only).
	// +optional
	MinPodsPerReplicaSet *int32 `json:"minPodsPerReplicaSet,omitempty"`
	// ReplicaProgressThreshold lets the rollout move on before every canary
	// pod is available.
	// +optional
	ReplicaProgressThreshold *ReplicaProgressThreshold `json:"replicaProgressThreshold,omitempty"`
}

// PingPongSpec names the two Services that take turns being stable.
type PingPongSpec struct {
	// PingService is the first of the two Services.
	PingService string `json:"pingService"`
	// PongService is the second of the two Services.
	PongService string `json:"pongService"`
}

// ProgressType is the unit of a ReplicaProgressThreshold.
type ProgressType string

// Units of a ReplicaProgressThreshold.
const (
	ProgressTypePercentage ProgressType = "Percent"
	ProgressTypePods       ProgressType = "Pods"
)

// ReplicaProgressThreshold is how much of the canary must be available for
// the rollout to go on.
type ReplicaProgressThreshold struct {
	// Type is Percent or Pods.
	Type ProgressType `json:"type"`
	// Value is the threshold in Type's unit.
	Value int32 `json:"value"`
}

// CanaryStep is one step of a canary. Exactly one field is set.
type CanaryStep struct {
	// SetWeight sends this percentage of traffic (or replicas) to the canary.
	// +optional
	SetWeight *int32 `json:"setWeight,omitempty"`
	// Pause waits for a duration, or until promoted when no duration is given.
	// +optional
	Pause *RolloutPause `json:"pause,omitempty"`
	// Experiment runs an Experiment and waits for it to finish.
	// +optional
	Experiment *RolloutExperimentStep `json:"experiment,omitempty"`
	// Analysis runs an AnalysisRun and waits for it to finish.
	// +optional
	Analysis *RolloutAnalysis `json:"analysis,omitempty"`
	// SetCanaryScale sets the canary's replica count apart from its traffic weight.
	// +optional
	SetCanaryScale *SetCanaryScale `json:"setCanaryScale,omitempty"`
	// SetHeaderRoute sends requests that match headers to the canary.
	// +optional
	SetHeaderRoute *SetHeaderRoute `json:"setHeaderRoute,omitempty"`
	// SetMirrorRoute copies matching requests to the canary.
	// +optional
	SetMirrorRoute *SetMirrorRoute `json:"setMirrorRoute,omitempty"`
	// Plugin runs a step plugin.
	// +optional
	Plugin *PluginStep `json:"plugin,omitempty"`
}

// RolloutPause is a pause step.
type RolloutPause struct {
	// Duration of the pause: seconds as a number or a string, or a Go duration
	// such as 1h. No duration means wait for a promote.
	// +optional
	Duration *intstr.IntOrString `json:"duration,omitempty"`
}

// DurationSeconds is the pause length in seconds: 0 for an indefinite pause and
// -1 when the duration cannot be read.
func (p RolloutPause) DurationSeconds() int32 {
	if p.Duration == nil {
		return 0
	}
	if p.Duration.Type == intstr.Int {
		return p.Duration.IntVal
	}
	if n, err := strconv.ParseInt(p.Duration.StrVal, 10, 32); err == nil {
		return int32(n)
	}
	d, err := time.ParseDuration(p.Duration.StrVal)
	if err != nil {
		return -1
	}
	return int32(d.Seconds())
}

// PluginStep runs a named step plugin with its configuration.
type PluginStep struct {
	// Name of the plugin, as configured for the controller.
	Name string `json:"name"`
	// Config is passed to the plugin as is.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	Config json.RawMessage `json:"config,omitempty"`
}

// SetCanaryScale sets the canary's replica count. Exactly one field is used.
type SetCanaryScale struct {
	// Weight is the canary's share of spec.replicas, in percent.
	// +optional
	Weight *int32 `json:"weight,omitempty"`
	// Replicas is an exact canary pod count.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// MatchTrafficWeight scales the canary with its traffic weight again.
	// +optional
	MatchTrafficWeight bool `json:"matchTrafficWeight,omitempty"`
}

// SetHeaderRoute adds (or, with no match, removes) a managed route that sends
// requests with matching headers to the canary.
type SetHeaderRoute struct {
	// Name of the route; it must be listed in trafficRouting.managedRoutes.
	Name string `json:"name,omitempty"`
	// Match lists the header conditions; all must hold.
	Match []HeaderRoutingMatch `json:"match,omitempty"`
}

// HeaderRoutingMatch is one header condition of a header route.
type HeaderRoutingMatch struct {
	// HeaderName is the request header to look at.
	HeaderName string `json:"headerName"`
	// HeaderValue is how its value must match.
	HeaderValue *StringMatch `json:"headerValue"`
}

// SetMirrorRoute adds (or, with no match, removes) a managed route that copies
// matching requests to the canary.
type SetMirrorRoute struct {
	// Name of the route; it must be listed in trafficRouting.managedRoutes.
	Name string `json:"name"`
	// Match lists the request conditions; any one of them selects a request.
	// +optional
	Match []RouteMatch `json:"match,omitempty"`
	// Percentage of the matching requests to copy. Defaults to 100.
	// +optional
	Percentage *int32 `json:"percentage,omitempty"`
}

// RouteMatch is a request condition of a mirror route.
type RouteMatch struct {
	// Method matches the HTTP method.
	// +optional
	Method *StringMatch `json:"method,omitempty"`
	// Path matches the URI path.
	// +optional
	Path *StringMatch `json:"path,omitempty"`
	// Headers match request headers by name.
	// +optional
	Headers map[string]StringMatch `json:"headers,omitempty"`
}

// StringMatch matches a string. Exactly one field is set.
type StringMatch struct {
	// Exact matches the whole string.
	Exact string `json:"exact,omitempty"`
	// Prefix matches the start of the string.
	Prefix string `json:"prefix,omitempty"`
	// Regex matches an RE2 regular expression.
	Regex string `json:"regex,omitempty"`
}

// RolloutAnalysis names the templates of an AnalysisRun and the arguments it
// gets.
type RolloutAnalysis struct {
	// Templates are merged into one AnalysisRun.
	// +patchMergeKey=templateName
	// +patchStrategy=merge
	Templates []AnalysisTemplateRef `json:"templates,omitempty" patchStrategy:"merge" patchMergeKey:"templateName"`
	// Args fill the templates' arguments.
	// +patchMergeKey=name
	// +patchStrategy=merge
	Args []AnalysisRunArgument `json:"args,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// DryRun lists metrics whose results are recorded but never change the outcome.
	// +patchMergeKey=metricName
	// +patchStrategy=merge
	DryRun []DryRun `json:"dryRun,omitempty" patchStrategy:"merge" patchMergeKey:"metricName"`
	// MeasurementRetention sets how many measurements of a metric are kept.
	// +patchMergeKey=metricName
	// +patchStrategy=merge
	MeasurementRetention []MeasurementRetention `json:"measurementRetention,omitempty" patchStrategy:"merge" patchMergeKey:"metricName"`
	// AnalysisRunMetadata is added to the AnalysisRun.
	// +optional
	AnalysisRunMetadata *AnalysisRunMetadata `json:"analysisRunMetadata,omitempty"`
}

// RolloutAnalysisBackground is an analysis that runs beside the steps.
type RolloutAnalysisBackground struct {
	RolloutAnalysis `json:",inline"`
	// StartingStep is the index of the step at which the analysis starts.
	// +optional
	StartingStep *int32 `json:"startingStep,omitempty"`
}

// AnalysisTemplateRef names an AnalysisTemplate, or a ClusterAnalysisTemplate
// when ClusterScope is true.
type AnalysisTemplateRef struct {
	// TemplateName is the template's name.
	// +optional
	TemplateName string `json:"templateName"`
	// ClusterScope looks the name up among ClusterAnalysisTemplates.
	// +optional
	ClusterScope *bool `json:"clusterScope,omitempty"`
}

// IsClusterScope tells whether the reference is to a ClusterAnalysisTemplate.
func (r *AnalysisTemplateRef) IsClusterScope() bool {
	return r.ClusterScope != nil && *r.ClusterScope
}

// AnalysisRunArgument is a value a Rollout passes to its analysis templates.
type AnalysisRunArgument struct {
	// Name of the argument.
	Name string `json:"name"`
	// Value of the argument.
	// +optional
	Value string `json:"value,omitempty"`
	// ValueFrom takes the value from the Rollout.
	// +optional
	ValueFrom *ArgumentValueFrom `json:"valueFrom,omitempty"`
}

// ArgumentValueFrom takes an argument's value from the Rollout.
type ArgumentValueFrom struct {
	// PodTemplateHashValue is the hash of the Stable or the Latest revision.
	// +optional
	PodTemplateHashValue *ValueFromPodTemplateHash `json:"podTemplateHashValue,omitempty"`
	// FieldRef is a path into the Rollout, such as metadata.labels['app'].
	// +optional
	FieldRef *FieldRef `json:"fieldRef,omitempty"`
}

// FieldRef is a path into an object.
type FieldRef struct {
	// FieldPath is the path, such as metadata.name.
	FieldPath string `json:"fieldPath"`
}

// ValueFromPodTemplateHash says which revision's hash an argument takes.
type ValueFromPodTemplateHash string

// Revisions whose pod template hash an argument can take.
const (
	Stable ValueFromPodTemplateHash = "Stable"
	Latest ValueFromPodTemplateHash = "Latest"
)

// RolloutExperimentStep runs an Experiment as a canary step.
type RolloutExperimentStep struct {
	// Templates are the ReplicaSets the experiment runs.
	// +patchMergeKey=name
	// +patchStrategy=merge
	Templates []RolloutExperimentTemplate `json:"templates" patchStrategy:"merge" patchMergeKey:"name"`
	// Duration is how long the experiment runs; empty means until its analyses end.
	// +optional
	Duration DurationString `json:"duration,omitempty"`
	// Analyses run against the experiment's ReplicaSets.
	// +patchMergeKey=name
	// +patchStrategy=merge
	Analyses []RolloutExperimentStepAnalysisTemplateRef `json:"analyses,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// DryRun lists metrics whose results never change the outcome.
	// +patchMergeKey=metricName
	// +patchStrategy=merge
	// +optional
	DryRun []DryRun `json:"dryRun,omitempty" patchStrategy:"merge" patchMergeKey:"metricName"`
	// AnalysisRunMetadata is added to the experiment's AnalysisRuns.
	// +optional
	AnalysisRunMetadata AnalysisRunMetadata `json:"analysisRunMetadata,omitempty"`
	// ScaleDownDelaySeconds keeps the experiment's pods this long after it ends.
	// +optional
	ScaleDownDelaySeconds *int32 `json:"scaleDownDelaySeconds,omitempty"`
}

// RolloutExperimentStepAnalysisTemplateRef is an analysis of an experiment step.
type RolloutExperimentStepAnalysisTemplateRef struct {
	// Name of the analysis inside the experiment.
	Name string `json:"name"`
	// TemplateName is the analysis template to run.
	TemplateName string `json:"templateName"`
	// ClusterScope looks the name up among ClusterAnalysisTemplates.
	// +optional
	ClusterScope *bool `json:"clusterScope,omitempty"`
	// Args fill the template's arguments.
	// +patchMergeKey=name
	// +patchStrategy=merge
	Args []AnalysisRunArgument `json:"args,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// RequiredForCompletion makes the experiment end when this analysis ends.
	RequiredForCompletion bool `json:"requiredForCompletion,omitempty"`
}

// IsClusterScope tells whether the reference is to a ClusterAnalysisTemplate.
func (r *RolloutExperimentStepAnalysisTemplateRef) IsClusterScope() bool {
	return r.ClusterScope != nil && *r.ClusterScope
}

// RolloutExperimentTemplate is one ReplicaSet of an experiment step.
type RolloutExperimentTemplate struct {
	// Name of the template inside the experiment.
	Name string `json:"name"`
	// SpecRef copies the pod template of the canary or the stable revision.
	SpecRef ReplicaSetSpecRef `json:"specRef"`
	// Replicas is the pod count. Defaults to 1.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// Metadata is added to the template's pods.
	// +optional
	Metadata PodTemplateMetadata `json:"metadata,omitempty"`
	// Selector overrides the selector of the copied revision.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	// Weight is the traffic share sent to this template (traffic routing only).
	// +optional
	Weight *int32 `json:"weight,omitempty"`
	// Service creates a Service for the template's pods.
	// +optional
	Service *TemplateService `json:"service,omitempty"`
}

// ReplicaSetSpecRef names the revision whose pod template is copied.
type ReplicaSetSpecRef string

// Revisions an experiment template can copy.
const (
	CanarySpecRef ReplicaSetSpecRef = "canary"
	StableSpecRef ReplicaSetSpecRef = "stable"
)

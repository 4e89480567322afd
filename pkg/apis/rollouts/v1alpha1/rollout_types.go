package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Rollout replaces a Deployment with a progressive release: a canary moved
// through steps, or a blue-green switch between two Services.
//
// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:resource:path=rollouts,shortName=ro
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.HPAReplicas,selectorpath=.status.selector
// +kubebuilder:printcolumn:name="Desired",type="integer",JSONPath=".spec.replicas",description="Number of desired pods"
// +kubebuilder:printcolumn:name="Current",type="integer",JSONPath=".status.replicas",description="Total number of non-terminated pods targeted by this rollout"
// +kubebuilder:printcolumn:name="Up-to-date",type="integer",JSONPath=".status.updatedReplicas",description="Total number of non-terminated pods targeted by this rollout that have the desired template spec"
// +kubebuilder:printcolumn:name="Available",type="integer",JSONPath=".status.availableReplicas",description="Total number of available pods (ready for at least minReadySeconds) targeted by this rollout"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description="Time since resource was created"
// +kubebuilder:printcolumn:name="Phase",type="string",JSONPath=".status.phase",description="Phase of the rollout",priority=1
// +kubebuilder:printcolumn:name="Step",type="integer",JSONPath=".status.currentStepIndex",description="Index of the current canary step",priority=1
// +kubebuilder:printcolumn:name="Weight",type="integer",JSONPath=".status.canary.weights.canary.weight",description="Traffic weight currently on the canary",priority=1
// +kubebuilder:printcolumn:name="Message",type="string",JSONPath=".status.message",description="Why the rollout is in its phase",priority=1
// +kubebuilder:subresource:status
type Rollout struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RolloutSpec   `json:"spec"`
	Status RolloutStatus `json:"status,omitempty"`
}

// RolloutSpec is what the user asks of a Rollout.
type RolloutSpec struct {
	// Replicas is the number of pods wanted. The controller writes 1 here when
	// it is left empty, so that a HorizontalPodAutoscaler has a value to scale.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// Selector picks the pods this Rollout owns. It cannot change once set.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message=".spec.selector is immutable"
	Selector *metav1.LabelSelector `json:"selector"`
	// Template is the pod template of each revision. Leave it empty when
	// WorkloadRef names the workload that holds the template.
	// +optional
	Template corev1.PodTemplateSpec `json:"template"`
	// WorkloadRef points at a Deployment, ReplicaSet or PodTemplate whose
	// template and selector this Rollout uses instead of its own.
	// +optional
	WorkloadRef *ObjectRef `json:"workloadRef,omitempty"`
	// MinReadySeconds is how long a new pod must be ready, without a container
	// crashing, before it counts as available. Zero means as soon as it is ready.
	// +optional
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
	// RollbackWindow lets a return to one of the last few revisions skip the
	// steps and analysis.
	// +optional
	RollbackWindow *RollbackWindowSpec `json:"rollbackWindow,omitempty"`
	// Strategy says how a new revision replaces the running one.
	// +optional
	Strategy RolloutStrategy `json:"strategy"`
	// RevisionHistoryLimit is how many old, scaled-down ReplicaSets are kept for
	// undo. Defaults to 10.
	// +optional
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
	// Paused stops the rollout where it is until it is set back to false.
	// +optional
	Paused bool `json:"paused,omitempty"`
	// ProgressDeadlineSeconds is how long a revision may go without progress
	// before the rollout is reported as failed. Defaults to 600.
	// +optional
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
	// ProgressDeadlineAbort aborts the update, rather than only reporting it,
	// when the progress deadline passes.
	// +optional
	ProgressDeadlineAbort bool `json:"progressDeadlineAbort,omitempty"`
	// RestartAt asks for every pod created before this time to be replaced.
	// +optional
	RestartAt *metav1.Time `json:"restartAt,omitempty"`
	// Analysis sets how many finished AnalysisRuns and Experiments are kept.
	// +optional
	Analysis *AnalysisRunStrategy `json:"analysis,omitempty"`
}

// ObjectRef names the workload whose pod template a Rollout borrows.
type ObjectRef struct {
	// APIVersion of the referenced workload, such as apps/v1.
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind of the referenced workload: Deployment, ReplicaSet or PodTemplate.
	Kind string `json:"kind,omitempty"`
	// Name of the referenced workload, in the Rollout's namespace.
	Name string `json:"name,omitempty"`
	// ScaleDown says what happens to a referenced Deployment: never (the
	// default), onsuccess or progressively.
	ScaleDown string `json:"scaleDown,omitempty"`
}

// Values of ObjectRef.ScaleDown.
const (
	ScaleDownNever         = "never"
	ScaleDownOnSuccess     = "onsuccess"
	ScaleDownProgressively = "progressively"
)

// RollbackWindowSpec bounds how far back a rollback may skip the steps.
type RollbackWindowSpec struct {
	// Revisions is how many recent revisions count as inside the window.
	Revisions int32 `json:"revisions,omitempty"`
}

// AnalysisRunStrategy limits the history of finished AnalysisRuns and
// Experiments kept for a Rollout.
type AnalysisRunStrategy struct {
	// SuccessfulRunHistoryLimit is how many successful runs are kept. Defaults to 5.
	SuccessfulRunHistoryLimit *int32 `json:"successfulRunHistoryLimit,omitempty"`
	// UnsuccessfulRunHistoryLimit is how many failed, errored or inconclusive
	// runs are kept. Defaults to 5.
	UnsuccessfulRunHistoryLimit *int32 `json:"unsuccessfulRunHistoryLimit,omitempty"`
}

// RolloutStrategy holds exactly one of the two release strategies.
type RolloutStrategy struct {
	// BlueGreen runs the new revision beside the old and switches all traffic at once.
	// +optional
	BlueGreen *BlueGreenStrategy `json:"blueGreen,omitempty"`
	// Canary moves the new revision in through a list of steps.
	// +optional
	Canary *CanaryStrategy `json:"canary,omitempty"`
}

// BlueGreenStrategy runs a preview of the new revision behind a preview
// Service and then points the active Service at it.
type BlueGreenStrategy struct {
	// ActiveService is the Service that carries production traffic.
	ActiveService string `json:"activeService"`
	// PreviewService is the Service that reaches the new revision before promotion.
	// +optional
	PreviewService string `json:"previewService,omitempty"`
	// PreviewReplicaCount is how many pods the new revision runs before promotion.
	// +optional
	PreviewReplicaCount *int32 `json:"previewReplicaCount,omitempty"`
	// AutoPromotionEnabled switches the active Service as soon as the preview is
	// ready. Defaults to true; when false the rollout pauses for a promote.
	// +optional
	AutoPromotionEnabled *bool `json:"autoPromotionEnabled,omitempty"`
	// AutoPromotionSeconds promotes automatically this many seconds after the
	// rollout paused for promotion.
	// +optional
	AutoPromotionSeconds int32 `json:"autoPromotionSeconds,omitempty"`
	// MaxUnavailable is how many pods may be unavailable during the update, as a
	// number or a percentage. Defaults to 25%.
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	// ScaleDownDelaySeconds keeps the old revision running this long after the
	// switch so that a rollback is instant. Defaults to 30.
	// +optional
	ScaleDownDelaySeconds *int32 `json:"scaleDownDelaySeconds,omitempty"`
	// ScaleDownDelayRevisionLimit caps how many old revisions wait out their
	// scale-down delay at the same time.
	// +optional
	ScaleDownDelayRevisionLimit *int32 `json:"scaleDownDelayRevisionLimit,omitempty"`
	// PrePromotionAnalysis must succeed before the active Service is switched.
	// +optional
	PrePromotionAnalysis *RolloutAnalysis `json:"prePromotionAnalysis,omitempty"`
	// AntiAffinity keeps new pods off the nodes of the old revision.
	// +optional
	AntiAffinity *AntiAffinity `json:"antiAffinity,omitempty"`
	// PostPromotionAnalysis runs after the switch; if it fails the active
	// Service goes back to the previous revision.
	// +optional
	PostPromotionAnalysis *RolloutAnalysis `json:"postPromotionAnalysis,omitempty"`
	// PreviewMetadata is added to the pods of the revision behind the preview Service.
	// +optional
	PreviewMetadata *PodTemplateMetadata `json:"previewMetadata,omitempty"`
	// ActiveMetadata is added to the pods of the revision behind the active Service.
	// +optional
	ActiveMetadata *PodTemplateMetadata `json:"activeMetadata,omitempty"`
	// AbortScaleDownDelaySeconds keeps the preview revision running this long
	// after an abort. Defaults to 30; zero keeps it running.
	// +optional
	AbortScaleDownDelaySeconds *int32 `json:"abortScaleDownDelaySeconds,omitempty"`
}

// AntiAffinity keeps the pods of a new revision away from the nodes that run
// the old one. Exactly one of its fields is set.
type AntiAffinity struct {
	// +optional
	PreferredDuringSchedulingIgnoredDuringExecution *PreferredDuringSchedulingIgnoredDuringExecution `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
	// +optional
	RequiredDuringSchedulingIgnoredDuringExecution *RequiredDuringSchedulingIgnoredDuringExecution `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PreferredDuringSchedulingIgnoredDuringExecution asks the scheduler to avoid
// the old revision's nodes when it can.
type PreferredDuringSchedulingIgnoredDuringExecution struct {
	// Weight of the preference, from 1 to 100.
	Weight int32 `json:"weight"`
}

// RequiredDuringSchedulingIgnoredDuringExecution forbids the old revision's nodes.
type RequiredDuringSchedulingIgnoredDuringExecution struct{}

// PodTemplateMetadata is extra pod metadata applied to one role of pods.
type PodTemplateMetadata struct {
	// Labels added to the pods.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations added to the pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// AnalysisRunMetadata is extra metadata given to the AnalysisRuns a Rollout creates.
type AnalysisRunMetadata struct {
	// Labels added to the AnalysisRun.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations added to the AnalysisRun.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RolloutList is a list of Rollouts.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type RolloutList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []Rollout `json:"items"`
}

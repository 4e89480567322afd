package v1alpha1

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RolloutStatus is what the controller reports about a Rollout. The users'
// tools also write a few fields here: abort, promoteFull, pauseConditions and
// currentStepIndex.
type RolloutStatus struct {
	// Abort stops the update and returns all traffic to the stable revision.
	Abort bool `json:"abort,omitempty"`
	// PauseConditions lists why the controller paused the rollout.
	PauseConditions []PauseCondition `json:"pauseConditions,omitempty"`
	// ControllerPause is true while a pause the controller added has not been
	// acted on after its conditions were cleared.
	ControllerPause bool `json:"controllerPause,omitempty"`
	// AbortedAt is when the current abort began.
	AbortedAt *metav1.Time `json:"abortedAt,omitempty"`
	// CurrentPodHash is the pod template hash of the desired revision.
	CurrentPodHash string `json:"currentPodHash,omitempty"`
	// CurrentStepHash is a hash of the canary steps, to notice when they change.
	CurrentStepHash string `json:"currentStepHash,omitempty"`
	// Replicas is the number of pods of every revision.
	Replicas int32 `json:"replicas,omitempty"`
	// UpdatedReplicas is the number of pods of the desired revision.
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`
	// ReadyReplicas is the number of ready pods.
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// AvailableReplicas is the number of pods ready for at least minReadySeconds.
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`
	// CurrentStepIndex is the canary step being run; it equals the number of
	// steps once they are all done.
	// +optional
	CurrentStepIndex *int32 `json:"currentStepIndex,omitempty"`
	// CollisionCount makes the pod template hash unique when two templates collide.
	// +optional
	CollisionCount *int32 `json:"collisionCount,omitempty"`
	// ObservedGeneration is the metadata.generation last acted on, written as a
	// decimal string.
	// +optional
	ObservedGeneration string `json:"observedGeneration,omitempty"`
	// Conditions are the latest observations of the rollout's state.
	// +optional
	Conditions []RolloutCondition `json:"conditions,omitempty"`
	// Canary is the canary strategy's part of the status.
	// +optional
	Canary CanaryStatus `json:"canary,omitempty"`
	// BlueGreen is the blue-green strategy's part of the status.
	// +optional
	BlueGreen BlueGreenStatus `json:"blueGreen,omitempty"`
	// HPAReplicas is the replica count the scale subresource reports.
	// +optional
	HPAReplicas int32 `json:"HPAReplicas,omitempty"`
	// Selector is the label selector the scale subresource reports.
	// +optional
	Selector string `json:"selector,omitempty"`
	// StableRS is the pod template hash of the stable revision.
	// +optional
	StableRS string `json:"stableRS,omitempty"`
	// RestartedAt is the spec.restartAt whose restart has completed.
	// +optional
	RestartedAt *metav1.Time `json:"restartedAt,omitempty"`
	// PromoteFull skips the remaining steps, pauses and analyses.
	PromoteFull bool `json:"promoteFull,omitempty"`
	// Phase is Healthy, Progressing, Paused or Degraded.
	Phase RolloutPhase `json:"phase,omitempty"`
	// Message says why the rollout is in its phase.
	Message string `json:"message,omitempty"`
	// WorkloadObservedGeneration is the generation of the referenced workload
	// last acted on, written as a decimal string.
	// +optional
	WorkloadObservedGeneration string `json:"workloadObservedGeneration,omitempty"`
	// ALB is the status of a single ALB Ingress.
	// +optional
	ALB *ALBStatus `json:"alb,omitempty"`
	// ALBs is the status of each ALB Ingress.
	// +optional
	ALBs []ALBStatus `json:"albs,omitempty"`
	// Duration records when the current update started and how it ended.
	// +optional
	Duration *RolloutDurationStatus `json:"duration,omitempty"`
}

// RolloutPhase summarises a rollout's state.
type RolloutPhase string

// Phases of a Rollout.
const (
	RolloutPhaseHealthy     RolloutPhase = "Healthy"
	RolloutPhaseDegraded    RolloutPhase = "Degraded"
	RolloutPhaseProgressing RolloutPhase = "Progressing"
	RolloutPhasePaused      RolloutPhase = "Paused"
)

// PauseReason says why the controller paused a rollout.
type PauseReason string

// Reasons of a pause condition.
const (
	PauseReasonInconclusiveAnalysis   PauseReason = "InconclusiveAnalysisRun"
	PauseReasonInconclusiveExperiment PauseReason = "InconclusiveExperiment"
	PauseReasonCanaryPauseStep        PauseReason = "CanaryPauseStep"
	PauseReasonBlueGreenPause         PauseReason = "BlueGreenPause"
)

// PauseCondition is one reason the rollout is paused and when it began.
type PauseCondition struct {
	Reason    PauseReason `json:"reason"`
	StartTime metav1.Time `json:"startTime"`
}

// RolloutConditionType is the type of a Rollout condition.
type RolloutConditionType string

// Types of Rollout conditions.
const (
	InvalidSpec           RolloutConditionType = "InvalidSpec"
	RolloutAvailable      RolloutConditionType = "Available"
	RolloutProgressing    RolloutConditionType = "Progressing"
	RolloutReplicaFailure RolloutConditionType = "ReplicaFailure"
	RolloutPaused         RolloutConditionType = "Paused"
	RolloutCompleted      RolloutConditionType = "Completed"
	RolloutHealthy        RolloutConditionType = "Healthy"
)

// RolloutCondition is one observation of a Rollout's state.
type RolloutCondition struct {
	// Type of the condition.
	Type RolloutConditionType `json:"type"`
	// Status is True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// LastUpdateTime is when the condition was last written.
	LastUpdateTime metav1.Time `json:"lastUpdateTime"`
	// LastTransitionTime is when the status last changed.
	LastTransitionTime metav1.Time `json:"lastTransitionTime"`
	// Reason is a one-word cause.
	Reason string `json:"reason"`
	// Message is a human-readable explanation.
	Message string `json:"message"`
}

// CanaryStatus is the canary strategy's part of the status.
type CanaryStatus struct {
	// CurrentStepAnalysisRunStatus is the AnalysisRun of the current step.
	// +optional
	CurrentStepAnalysisRunStatus *RolloutAnalysisRunStatus `json:"currentStepAnalysisRunStatus,omitempty"`
	// CurrentBackgroundAnalysisRunStatus is the background AnalysisRun.
	// +optional
	CurrentBackgroundAnalysisRunStatus *RolloutAnalysisRunStatus `json:"currentBackgroundAnalysisRunStatus,omitempty"`
	// CurrentExperiment is the Experiment of the current step.
	// +optional
	CurrentExperiment string `json:"currentExperiment,omitempty"`
	// Weights are the traffic weights last set on the traffic router.
	// +optional
	Weights *TrafficWeights `json:"weights,omitempty"`
	// StablePingPong is which of the ping-pong Services is stable: ping or pong.
	// +optional
	StablePingPong PingPongType `json:"stablePingPong,omitempty"`
	// StepPluginStatuses records the step plugins run for this revision.
	// +optional
	StepPluginStatuses []StepPluginStatus `json:"stepPluginStatuses,omitempty"`
}

// PingPongType is ping or pong.
type PingPongType string

// The two ping-pong sides.
const (
	PPPing PingPongType = "ping"
	PPPong PingPongType = "pong"
)

// TrafficWeights are the weights last set on the traffic router.
type TrafficWeights struct {
	// Canary is the weight sent to the canary.
	Canary WeightDestination `json:"canary"`
	// Stable is the weight sent to the stable revision.
	Stable WeightDestination `json:"stable"`
	// Additional are the weights sent to experiment templates.
	// +optional
	Additional []WeightDestination `json:"additional,omitempty"`
	// Verified tells whether the router confirmed the weights.
	// +optional
	Verified *bool `json:"verified,omitempty"`
}

// WeightDestination is the weight sent to one Service and revision.
type WeightDestination struct {
	// Weight is the share of traffic.
	Weight int32 `json:"weight"`
	// ServiceName is the Service that receives it.
	// +optional
	ServiceName string `json:"serviceName,omitempty"`
	// PodTemplateHash is the revision that receives it.
	// +optional
	PodTemplateHash string `json:"podTemplateHash,omitempty"`
}

// RolloutAnalysisRunStatus is a short view of an AnalysisRun.
type RolloutAnalysisRunStatus struct {
	Name    string        `json:"name"`
	Status  AnalysisPhase `json:"status"`
	Message string        `json:"message,omitempty"`
}

// BlueGreenStatus is the blue-green strategy's part of the status.
type BlueGreenStatus struct {
	// PreviewSelector is the hash the preview Service selects.
	// +optional
	PreviewSelector string `json:"previewSelector,omitempty"`
	// ActiveSelector is the hash the active Service selects.
	// +optional
	ActiveSelector string `json:"activeSelector,omitempty"`
	// ScaleUpPreviewCheckPoint is set once a preview of previewReplicaCount pods
	// has been scaled up to the full count before the switch.
	// +optional
	ScaleUpPreviewCheckPoint bool `json:"scaleUpPreviewCheckPoint,omitempty"`
	// PrePromotionAnalysisRunStatus is the pre-promotion AnalysisRun.
	// +optional
	PrePromotionAnalysisRunStatus *RolloutAnalysisRunStatus `json:"prePromotionAnalysisRunStatus,omitempty"`
	// PostPromotionAnalysisRunStatus is the post-promotion AnalysisRun.
	// +optional
	PostPromotionAnalysisRunStatus *RolloutAnalysisRunStatus `json:"postPromotionAnalysisRunStatus,omitempty"`
}

// StepPluginStatus records one run of a step plugin.
type StepPluginStatus struct {
	// Index of the step.
	Index int32 `json:"index"`
	// Name of the plugin.
	Name string `json:"name"`
	// Operation is Run, Terminate or Abort.
	Operation StepPluginOperation `json:"operation"`
	// Phase is Running, Successful, Failed or Error.
	Phase StepPluginPhase `json:"phase,omitempty"`
	// Message from the plugin.
	Message string `json:"message,omitempty"`
	// StartedAt is when the operation began.
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// UpdatedAt is when the operation last reported.
	UpdatedAt *metav1.Time `json:"updatedAt,omitempty"`
	// FinishedAt is when the operation ended.
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Backoff is how long to wait before calling the plugin again.
	Backoff DurationString `json:"backoff,omitempty"`
	// Executions counts the calls made.
	Executions int32 `json:"executions,omitempty"`
	// Disabled is true when the plugin is turned off.
	Disabled bool `json:"disabled,omitempty"`
	// Status is the plugin's own state.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Status json.RawMessage `json:"status,omitempty"`
}

// StepPluginPhase is the phase of a step plugin operation.
type StepPluginPhase string

// Phases of a step plugin operation.
const (
	StepPluginPhaseRunning    StepPluginPhase = "Running"
	StepPluginPhaseSuccessful StepPluginPhase = "Successful"
	StepPluginPhaseFailed     StepPluginPhase = "Failed"
	StepPluginPhaseError      StepPluginPhase = "Error"
)

// StepPluginOperation is what the controller asked a step plugin to do.
type StepPluginOperation string

// Operations of a step plugin.
const (
	StepPluginOperationRun       StepPluginOperation = "Run"
	StepPluginOperationTerminate StepPluginOperation = "Terminate"
	StepPluginOperationAbort     StepPluginOperation = "Abort"
)

// ALBStatus names the AWS resources behind an ALB Ingress.
type ALBStatus struct {
	LoadBalancer      AwsResourceRef `json:"loadBalancer,omitempty"`
	CanaryTargetGroup AwsResourceRef `json:"canaryTargetGroup,omitempty"`
	StableTargetGroup AwsResourceRef `json:"stableTargetGroup,omitempty"`
	Ingress           string         `json:"ingress,omitempty"`
}

// AwsResourceRef names an AWS resource.
type AwsResourceRef struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
	// +optional
	FullName string `json:"fullName"`
}

// RolloutDurationStatus records when an update started, how long it was
// paused by hand, and how it ended.
type RolloutDurationStatus struct {
	// RolloutStartedAt is when the update began.
	// +optional
	RolloutStartedAt *metav1.Time `json:"rolloutStartedAt,omitempty"`
	// ManualPauseStartedAt is when the current manual pause began.
	// +optional
	ManualPauseStartedAt *metav1.Time `json:"manualPauseStartedAt,omitempty"`
	// TotalManualPauseDurationSeconds adds up the finished manual pauses.
	// +optional
	TotalManualPauseDurationSeconds *int64 `json:"totalManualPauseDurationSeconds,omitempty"`
	// FinishedAt is when the update ended.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// CompletionStatus says how the update ended.
	// +optional
	CompletionStatus *CompletionStatus `json:"completionStatus,omitempty"`
}

// CompletionStatus says how an update ended.
type CompletionStatus string

// Ways an update can end.
const (
	CompletionStatusPromoted       CompletionStatus = "Promoted"
	CompletionStatusFastPromoted   CompletionStatus = "FastPromoted"
	CompletionStatusAborted        CompletionStatus = "Aborted"
	CompletionStatusSuperseded     CompletionStatus = "Superseded"
	CompletionStatusRolledBack     CompletionStatus = "RolledBack"
	CompletionStatusFastRolledBack CompletionStatus = "FastRolledBack"
)

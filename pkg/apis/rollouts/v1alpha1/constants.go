package v1alpha1

// Every label, annotation, condition reason and message, and event reason that
// Serin reads or writes lives here. They are part of the contract with Argo
// Rollouts' users and tools: the kubectl plugin, Argo CD, dashboards and
// notification triggers key on these exact strings.

// Labels.
const (
	// LabelPodTemplateHash carries the hash of a revision's pod template on its
	// ReplicaSet, pods, the Services and DestinationRule subsets pointed at it,
	// and the AnalysisRuns and Experiments run for it.
	LabelPodTemplateHash = "rollouts-pod-template-hash"
	// LabelControllerInstanceID ties an object to the controller started with
	// the same --instance-id.
	LabelControllerInstanceID = "argo-rollouts.argoproj.io/controller-instance-id"
	// LabelRolloutType tells which kind of analysis an AnalysisRun is.
	LabelRolloutType = "rollout-type"
	// LabelStepIndex is the canary step an AnalysisRun was started for.
	LabelStepIndex = "step-index"
	// LabelAnalysisRunUID marks the Jobs (and their pods) of a job metric.
	LabelAnalysisRunUID = "analysisrun.argoproj.io/uid"
)

// Values of LabelRolloutType.
const (
	RolloutTypeStep          = "Step"
	RolloutTypeBackground    = "Background"
	RolloutTypePrePromotion  = "PrePromotion"
	RolloutTypePostPromotion = "PostPromotion"
)

// Annotations.
const (
	// AnnotationRevision is the revision number of a Rollout, and of the
	// ReplicaSet, AnalysisRun or Experiment made for that revision.
	AnnotationRevision = "rollout.argoproj.io/revision"
	// AnnotationRevisionHistory lists earlier revisions a reused ReplicaSet had.
	AnnotationRevisionHistory = "rollout.argoproj.io/revision-history"
	// AnnotationDesiredReplicas is spec.replicas when a ReplicaSet was last scaled.
	AnnotationDesiredReplicas = "rollout.argoproj.io/desired-replicas"
	// AnnotationEphemeralMetadata records the canary or stable metadata that the
	// controller injected into a ReplicaSet's pods.
	AnnotationEphemeralMetadata = "rollout.argoproj.io/ephemeral-metadata"
	// AnnotationWorkloadGeneration is the generation of the workload named by
	// spec.workloadRef, as last seen.
	AnnotationWorkloadGeneration = "rollout.argoproj.io/workload-generation"
	// AnnotationScaleDownDeadline is when an old ReplicaSet is scaled to zero.
	// The key has no prefix, as in Argo Rollouts.
	AnnotationScaleDownDeadline = "scale-down-deadline"
	// AnnotationManagedByRollouts names the Rollout that manages a Service,
	// DestinationRule or similar object.
	AnnotationManagedByRollouts = "argo-rollouts.argoproj.io/managed-by-rollouts"
	// AnnotationNotified is written by the notifications engine; it is never
	// copied to ReplicaSets.
	AnnotationNotified = "notified.notifications.argoproj.io"
	// AnnotationLastAppliedConfig is kubectl's client-side apply record; it is
	// never copied to ReplicaSets.
	AnnotationLastAppliedConfig = "kubectl.kubernetes.io/last-applied-configuration"
	// AnnotationExperimentName and AnnotationExperimentTemplateName tie an
	// experiment's ReplicaSets and Services to the experiment.
	AnnotationExperimentName         = "experiment.argoproj.io/name"
	AnnotationExperimentTemplateName = "experiment.argoproj.io/template-name"
	// Annotations that tie an analysis Job to its run.
	AnnotationAnalysisRunName      = "analysisrun.argoproj.io/name"
	AnnotationAnalysisRunNamespace = "analysisrun.argoproj.io/namespace"
	AnnotationAnalysisRunMetric    = "analysisrun.argoproj.io/metric-name"
)

// Defaults of the Rollout spec.
const (
	DefaultReplicas                   int32 = 1
	DefaultRevisionHistoryLimit       int32 = 10
	DefaultProgressDeadlineSeconds    int32 = 600
	DefaultScaleDownDelaySeconds      int32 = 30
	DefaultAbortScaleDownDelaySeconds int32 = 30
	DefaultSuccessfulRunHistoryLimit  int32 = 5
	DefaultUnsuccessfulRunHistory     int32 = 5
	DefaultMaxTrafficWeight           int32 = 100
	// DefaultMaxSurge and DefaultMaxUnavailable are percentages.
	DefaultMaxSurge       = "25%"
	DefaultMaxUnavailable = "25%"
)

// Condition reasons and messages of a Rollout. Messages with verbs are
// fmt formats.
const (
	ReasonInvalidSpec             = "InvalidSpec"
	MessageMissingField           = "Rollout has missing field '%s'"
	MessageSelectAll              = "This rollout is selecting all pods. A non-empty selector is required."
	ReasonAvailable               = "AvailableReason"
	MessageAvailable              = "Rollout has minimum availability"
	MessageNotAvailable           = "Rollout does not have minimum availability"
	ReasonReplicaSetUpdated       = "ReplicaSetUpdated"
	MessageReplicaSetProgress     = "ReplicaSet %q is progressing."
	MessageRolloutProgress        = "Rollout %q is progressing."
	ReasonReplicaSetCreateError   = "ReplicaSetCreateError"
	MessageReplicaSetCreateErr    = "Failed to create new replica set %q: %v"
	ReasonNewReplicaSetCreated    = "NewReplicaSetCreated"
	MessageNewReplicaSet          = "Created new replica set %q"
	MessageNewReplicaSetDetail    = "Created ReplicaSet %s (revision %d)"
	ReasonFoundNewReplicaSet      = "FoundNewReplicaSet"
	MessageFoundNewReplicaSet     = "Found new replica set %q"
	ReasonRolloutUpdated          = "RolloutUpdated"
	MessageRolloutUpdated         = "Rollout updated to revision %s"
	ReasonRolloutCompleted        = "RolloutCompleted"
	MessageRolloutCompleted       = "Rollout completed update to revision %d (%s): %s"
	ReasonRolloutNotCompleted     = "RolloutNotCompleted"
	MessageRolloutNotCompleted    = "Rollout not completed, started update to revision %d (%s)"
	MessageRolloutAddedToInformer = "Rollout resource added to cluster"
	ReasonRolloutHealthy          = "RolloutHealthy"
	MessageRolloutHealthy         = "Rollout is healthy"
	MessageRolloutNotHealthy      = "Rollout is not healthy"
	ReasonRolloutAborted          = "RolloutAborted"
	MessageRolloutAborted         = "Rollout aborted update to revision %d"
	ReasonRolloutRetry            = "RolloutRetry"
	MessageRolloutRetry           = "Retrying Rollout after abort"
	ReasonRolloutPaused           = "RolloutPaused"
	MessageRolloutPaused          = "Rollout is paused"
	ReasonRolloutResumed          = "RolloutResumed"
	MessageRolloutResumed         = "Rollout is resumed"
	ReasonReplicaSetNotAvail      = "ReplicaSetNotAvailable"
	ReasonNewRSAvailable          = "NewReplicaSetAvailable"
	MessageReplicaSetCompleted    = "ReplicaSet %q has successfully progressed."
	ReasonProgressDeadline        = "ProgressDeadlineExceeded"
	MessageReplicaSetTimedOut     = "ReplicaSet %q has timed out progressing."
	MessageRolloutTimedOut        = "Rollout %q has timed out progressing."
	ReasonAnalysisRunFailed       = "AnalysisRunFailed"
	MessageAnalysisRunFailed      = "AnalysisRun '%s' owned by the Rollout '%q' failed."
	ReasonExperimentFailed        = "ExperimentFailed"
	MessageExperimentFailed       = "Experiment '%s' owned by the Rollout '%q' has timed out."
	ReasonReconciliationError     = "ReconciliationError"
	MessageReconciliationError    = "Reconciliation failed with error: %v"
	ReasonServiceReferenceError   = "ServiceReferenceError"
	MessageServiceManagedByOthr   = "Service %q is managed by another Rollout"
)

// Phase messages written to status.message alongside status.phase.
const (
	PhaseMessageManuallyPaused      = "manually paused"
	PhaseMessageRestarting          = "rollout is restarting"
	PhaseMessageMoreReplicas        = "more replicas need to be updated"
	PhaseMessageBecomingAvailable   = "updated replicas are still becoming available"
	PhaseMessageActiveCutover       = "active service cutover pending"
	PhaseMessageWaitingAnalysis     = "waiting for analysis to complete"
	PhaseMessagePostPromotion       = "waiting for post-promotion verification to complete"
	PhaseMessageOldReplicasPending  = "old replicas are pending termination"
	PhaseMessageWaitingForAllSteps  = "waiting for all steps to complete"
	PhaseMessageSpecNotObserved     = "waiting for rollout spec update to be observed"
	PhaseMessageWaitingForUnpause   = "waiting for rollout to unpause"
	PhaseMessageWorkloadNotObserved = "waiting for rollout spec update to be observed for the reference workload"
)

// Event reasons. Notification triggers are "on-" plus the kebab-case reason,
// so these double as the names users subscribe to.
const (
	EventRolloutUpdated         = "RolloutUpdated"
	EventNewReplicaSetCreated   = "NewReplicaSetCreated"
	EventScalingReplicaSet      = "ScalingReplicaSet"
	EventRolloutStepCompleted   = "RolloutStepCompleted"
	EventRolloutCompleted       = "RolloutCompleted"
	EventRolloutNotCompleted    = "RolloutNotCompleted"
	EventRolloutPaused          = "RolloutPaused"
	EventRolloutResumed         = "RolloutResumed"
	EventRolloutAborted         = "RolloutAborted"
	EventRolloutHealthy         = "RolloutHealthy"
	EventRolloutDeleted         = "RolloutDeleted"
	EventRolloutAddedToInformer = "RolloutAddedToInformer"
	EventTrafficWeightUpdated   = "TrafficWeightUpdated"
	EventSwitchService          = "SwitchService"
	EventSkipSteps              = "SkipSteps"
	EventReplicaSetCreateError  = "ReplicaSetCreateError"
	EventReplicaSetUpdateError  = "ReplicaSetUpdateError"
	EventTrafficRoutingError    = "TrafficRoutingError"
	EventWeightVerifyError      = "WeightVerifyError"
	EventReconciliationError    = "ReconciliationError"
	EventStepPluginTransition   = "StepPluginTransition"
	EventVirtualServiceNotFound = "VirtualServiceNotFound"
	EventDestinationRuleMissing = "DestinationRuleNotFound"
	EventUpdatedDestinationRule = "UpdatedDestinationRule"
	EventCreatingCanaryIngress  = "CreatingCanaryIngress"
	EventPatchingCanaryIngress  = "PatchingCanaryIngress"
	EventTrafficSplitCreated    = "TrafficSplitCreated"
	EventTrafficSplitNotCreated = "TrafficSplitNotCreated"
	EventExperimentCreated      = "ExperimentCreated"
	EventAnalysisRunTerminating = "AnalysisRunTerminating"
	// AnalysisRun and Metric events are "AnalysisRun" or "Metric" followed by
	// the phase, for example AnalysisRunFailed or MetricSuccessful.
	EventPrefixAnalysisRun = "AnalysisRun"
	EventPrefixMetric      = "Metric"
	EventPrefixExperiment  = "Experiment"
)

// Event messages with a fixed shape.
const (
	EventMessageScaled        = "Scaled %s ReplicaSet %s (revision %d) from %d to %d"
	EventMessageStepCompleted = "Rollout step %d/%d completed (%s)"
	EventMessageWeightUpdated = "Traffic weight updated %s"
	EventMessageRolloutPaused = "Rollout is paused (%s)"
	EventMessageRolloutDelete = "Rollout %s/%s is deleted."
)

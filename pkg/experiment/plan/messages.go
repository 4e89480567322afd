package plan

// Condition reasons, messages and event reasons of an Experiment, as Argo
// Rollouts writes them. Messages with verbs are fmt formats.
const (
	ReasonInvalidSpec       = "InvalidSpec"
	ReasonReplicaSetUpdated = "ReplicaSetUpdated"
	ReasonNewRSAvailable    = "NewReplicaSetAvailable"
	ReasonCompleted         = "ExperimentCompleted"

	MessageProgressing = "Experiment %q is progressing."
	MessageRunning     = "Experiment %q is running."
	MessageCompleted   = "Experiment %q has successfully ran and completed."

	// Argo Rollouts words a missing selector as a Rollout's.
	MessageMissingField        = "Rollout has missing field '%s'"
	MessageSelectAll           = "This experiment is selecting all pods at index %d. A non-empty selector is required."
	MessageMinReadyTooLong     = "MinReadySeconds cannot be longer than ProgressDeadlineSeconds. Check template index %d"
	MessageEmptyTemplateName   = "Experiment %s has empty template name at index %d"
	MessageRepeatedTemplate    = "Experiment %s has repeated template name '%s' in templates"
	MessageRequiredCompleted   = "Required AnalysisRuns completed"
	MessageDeadlineExceeded    = "Template '%s' exceeded its progressDeadlineSeconds (%d)"
	MessageTemplateTransition  = "Template '%s' transitioned from %s -> %s"
	MessageRunTransition       = "AnalysisRun '%s' transitioned from %s -> %s"
	MessagePhaseTransition     = "Experiment transitioned from %s -> %s"
	MessageTerminatingRun      = "Terminating %s (%s)"
	MessageScaled              = "Scaled %s ReplicaSet %s from %d to %d"
	MessageTemplateVerify      = "AnalysisTemplate verification failed for analysis '%s': %v"
	MessageClusterVerify       = "ClusterAnalysisTemplate verification failed for analysis '%s': %v"
	MessageRunCreateFailed     = "Failed to create AnalysisRun for analysis '%s': %v"
	MessageRSCreateFailed      = "Failed to create ReplicaSet for template '%s': %v"
	MessageRSScaleFailed       = "Unable to scale ReplicaSet for template '%s' to desired replica count '%v': %v"
	MessageServiceCreateFailed = "Failed to create Service %s for template '%s': %v"
	MessageServiceDeleteFailed = "Failed to delete Service for template '%s': %v"
	MessageServiceNotOwned     = "service %s already exists and is not owned by experiment template %s"

	EventPrefixTemplate    = "Template"
	EventPrefixRun         = "AnalysisRun"
	EventPrefixExperiment  = "Experiment"
	EventRunTerminating    = "AnalysisRunTerminating"
	EventScalingReplicaSet = "ScalingReplicaSet"
	// EventRSCreateError is recorded with MessageRSCreateError.
	EventRSCreateError   = "ReplicaSetCreateError"
	MessageRSCreateError = "Failed to create new replica set %q: %v"
	// EventRSUpdateError is recorded with "Failed to scale <rs> <up|down>: <err>".
	EventRSUpdateError = "ReplicaSetUpdateError"
)

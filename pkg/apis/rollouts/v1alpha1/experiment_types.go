package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Experiment runs one or more short-lived ReplicaSets, optionally alongside
// AnalysisRuns, for a limited time or until it is terminated.
// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:resource:path=experiments,shortName=exp
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.phase",description="Experiment status"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description="Time since resource was created"
type Experiment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec describes the ReplicaSets and analyses of the experiment.
	Spec ExperimentSpec `json:"spec"`
	// Status reports the progress of the experiment.
	// +optional
	Status ExperimentStatus `json:"status,omitempty"`
}

// ExperimentList holds a set of Experiment objects.
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type ExperimentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []Experiment `json:"items"`
}

// ExperimentSpec describes the ReplicaSets and analyses of an Experiment.
type ExperimentSpec struct {
	// Templates describe the ReplicaSets the experiment creates, one per entry.
	// +patchMergeKey=name
	// +patchStrategy=merge
	Templates []TemplateSpec `json:"templates" patchStrategy:"merge" patchMergeKey:"name"`
	// Duration is how long the experiment runs once all its ReplicaSets are
	// available (e.g. 30s, 5m, 1h). When empty, it runs until it is terminated
	// or a required analysis fails.
	// +optional
	Duration DurationString `json:"duration,omitempty"`
	// ProgressDeadlineSeconds is how long a template's ReplicaSet may take to
	// become available before the experiment fails (default 600).
	// +optional
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
	// Terminate asks the controller to end the experiment early.
	// +optional
	Terminate bool `json:"terminate,omitempty"`
	// Analyses are the AnalysisRuns started together with the experiment.
	// +patchMergeKey=name
	// +patchStrategy=merge
	// +optional
	Analyses []ExperimentAnalysisTemplateRef `json:"analyses,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// ScaleDownDelaySeconds is how long the ReplicaSets are kept running after the
	// experiment has finished, so that traffic can drain (default 30).
	// +optional
	ScaleDownDelaySeconds *int32 `json:"scaleDownDelaySeconds,omitempty"`
	// DryRun selects metrics of the analyses whose outcome is recorded but never
	// affects the result.
	// +patchMergeKey=metricName
	// +patchStrategy=merge
	// +optional
	DryRun []DryRun `json:"dryRun,omitempty" patchStrategy:"merge" patchMergeKey:"metricName"`
	// MeasurementRetention overrides, per metric, how many measurements the
	// analyses keep.
	// +patchMergeKey=metricName
	// +patchStrategy=merge
	// +optional
	MeasurementRetention []MeasurementRetention `json:"measurementRetention,omitempty" patchStrategy:"merge" patchMergeKey:"metricName"`
	// AnalysisRunMetadata holds labels and annotations added to the AnalysisRuns
	// the experiment creates.
	// +optional
	AnalysisRunMetadata AnalysisRunMetadata `json:"analysisRunMetadata,omitempty"`
}

// TemplateSpec describes one ReplicaSet of an Experiment.
type TemplateSpec struct {
	// Name identifies the template; the ReplicaSet is named after the
	// experiment and this name.
	Name string `json:"name"`
	// Replicas is the desired number of pods (default 1).
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// MinReadySeconds is how long a pod must be ready, without crashing, before it
	// counts as available (default 0).
	// +optional
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
	// Selector matches the pods of this template. It must match the template's
	// labels and differ from the selectors of the other templates.
	Selector *metav1.LabelSelector `json:"selector"`
	// Template is the pod template of the ReplicaSet.
	Template corev1.PodTemplateSpec `json:"template"`
	// Service, when set, makes the experiment create a Service for this template.
	// +optional
	Service *TemplateService `json:"service,omitempty"`
}

// TemplateService configures the Service created for an experiment template.
type TemplateService struct {
	// Name of the Service; the ReplicaSet's name when empty.
	// +optional
	Name string `json:"name,omitempty"`
}

// TemplateStatusCode is the state of one experiment template's ReplicaSet.
type TemplateStatusCode string

// The values a TemplateStatusCode can take.
const (
	TemplateStatusProgressing TemplateStatusCode = "Progressing"
	TemplateStatusRunning     TemplateStatusCode = "Running"
	TemplateStatusSuccessful  TemplateStatusCode = "Successful"
	TemplateStatusFailed      TemplateStatusCode = "Failed"
	TemplateStatusError       TemplateStatusCode = "Error"
)

// Completed reports whether the template status is terminal (Successful,
// Failed or Error).
func (ts TemplateStatusCode) Completed() bool {
	return ts == TemplateStatusSuccessful ||
		ts == TemplateStatusFailed ||
		ts == TemplateStatusError
}

// TemplateStatus reports the state of one experiment template's ReplicaSet.
type TemplateStatus struct {
	// Name of the template.
	Name string `json:"name"`
	// Replicas is the number of non-terminated pods selected by the template.
	Replicas int32 `json:"replicas"`
	// UpdatedReplicas is the number of those pods that run the current template.
	UpdatedReplicas int32 `json:"updatedReplicas"`
	// ReadyReplicas is the number of ready pods.
	ReadyReplicas int32 `json:"readyReplicas"`
	// AvailableReplicas is the number of pods ready for at least minReadySeconds.
	AvailableReplicas int32 `json:"availableReplicas"`
	// CollisionCount counts pod-template-hash collisions; it is mixed into the
	// hash to produce a new, unused ReplicaSet name.
	// +optional
	CollisionCount *int32 `json:"collisionCount,omitempty"`
	// Status is the state of the template's ReplicaSet.
	// +optional
	Status TemplateStatusCode `json:"status,omitempty"`
	// Message explains the status.
	// +optional
	Message string `json:"message,omitempty"`
	// LastTransitionTime is when the status last changed; the progress deadline
	// is measured from it.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
	// ServiceName is the name of the Service created for the template, if any.
	// +optional
	ServiceName string `json:"serviceName,omitempty"`
	// PodTemplateHash is the pod-template-hash of the template's ReplicaSet.
	// +optional
	PodTemplateHash string `json:"podTemplateHash,omitempty"`
}

// ExperimentStatus reports the progress of an Experiment.
type ExperimentStatus struct {
	// Phase is the overall state of the experiment, combining the state of its
	// ReplicaSets and of its AnalysisRuns.
	// +optional
	Phase AnalysisPhase `json:"phase,omitempty"`
	// Message explains the phase.
	// +optional
	Message string `json:"message,omitempty"`
	// TemplateStatuses holds the state of each template's ReplicaSet.
	// +optional
	TemplateStatuses []TemplateStatus `json:"templateStatuses,omitempty"`
	// AvailableAt is when all templates first became available; the duration
	// is counted from here.
	// +optional
	AvailableAt *metav1.Time `json:"availableAt,omitempty"`
	// Conditions are the latest observations of the experiment's state.
	// +optional
	Conditions []ExperimentCondition `json:"conditions,omitempty"`
	// AnalysisRuns holds the state of each AnalysisRun the experiment started.
	// +optional
	AnalysisRuns []ExperimentAnalysisRunStatus `json:"analysisRuns,omitempty"`
}

// TemplateStatusByName returns the status entry of the named template, or nil.
func (s *ExperimentStatus) TemplateStatusByName(name string) *TemplateStatus {
	for i := range s.TemplateStatuses {
		if s.TemplateStatuses[i].Name == name {
			return &s.TemplateStatuses[i]
		}
	}
	return nil
}

// AnalysisRunStatusByName returns the status entry of the named analysis, or nil.
func (s *ExperimentStatus) AnalysisRunStatusByName(name string) *ExperimentAnalysisRunStatus {
	for i := range s.AnalysisRuns {
		if s.AnalysisRuns[i].Name == name {
			return &s.AnalysisRuns[i]
		}
	}
	return nil
}

// ConditionByType returns the condition of the given type, or nil.
func (s *ExperimentStatus) ConditionByType(t ExperimentConditionType) *ExperimentCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// ExperimentConditionType is the kind of an ExperimentCondition.
type ExperimentConditionType string

// The condition types an Experiment reports.
const (
	// InvalidExperimentSpec is set while the spec cannot be acted upon.
	InvalidExperimentSpec ExperimentConditionType = "InvalidSpec"
	// ExperimentCompleted is set once the experiment has finished.
	ExperimentCompleted ExperimentConditionType = "Completed"
	// ExperimentProgressing tracks whether the ReplicaSets are making progress
	// towards availability.
	ExperimentProgressing ExperimentConditionType = "Progressing"
	// ExperimentRunning is set while all templates are available and the
	// experiment's duration is elapsing.
	ExperimentRunning ExperimentConditionType = "Running"
	// ExperimentReplicaFailure is set when pods of a template could not be
	// created or deleted.
	ExperimentReplicaFailure ExperimentConditionType = "ReplicaFailure"
)

// ExperimentCondition is one observation of an Experiment's state.
type ExperimentCondition struct {
	// Type of the condition.
	Type ExperimentConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// LastUpdateTime is when the condition was last written.
	LastUpdateTime metav1.Time `json:"lastUpdateTime"`
	// LastTransitionTime is when the status last changed.
	LastTransitionTime metav1.Time `json:"lastTransitionTime"`
	// Reason is a one-word, CamelCase cause of the last transition.
	Reason string `json:"reason"`
	// Message describes the last transition for humans.
	Message string `json:"message"`
}

// ExperimentAnalysisTemplateRef names an analysis template to run during an
// Experiment.
type ExperimentAnalysisTemplateRef struct {
	// Name identifies the analysis within the experiment.
	Name string `json:"name"`
	// TemplateName is the AnalysisTemplate (or ClusterAnalysisTemplate) the run
	// is created from.
	TemplateName string `json:"templateName"`
	// ClusterScope, when true, looks the template up as a ClusterAnalysisTemplate.
	// +optional
	ClusterScope *bool `json:"clusterScope,omitempty"`
	// Args are argument values passed to the AnalysisRun.
	// +patchMergeKey=name
	// +patchStrategy=merge
	// +optional
	Args []Argument `json:"args,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// RequiredForCompletion keeps the experiment from finishing before this
	// analysis has finished.
	// +optional
	RequiredForCompletion bool `json:"requiredForCompletion,omitempty"`
}

// IsClusterScope reports whether the template is a ClusterAnalysisTemplate.
func (ref *ExperimentAnalysisTemplateRef) IsClusterScope() bool {
	return ref.ClusterScope != nil && *ref.ClusterScope
}

// ExperimentAnalysisRunStatus reports the state of one AnalysisRun of an Experiment.
type ExperimentAnalysisRunStatus struct {
	// Name of the analysis, as given in the experiment spec.
	Name string `json:"name"`
	// AnalysisRun is the name of the AnalysisRun object.
	AnalysisRun string `json:"analysisRun"`
	// Phase is the phase of the AnalysisRun.
	Phase AnalysisPhase `json:"phase"`
	// Message explains the phase.
	// +optional
	Message string `json:"message,omitempty"`
}

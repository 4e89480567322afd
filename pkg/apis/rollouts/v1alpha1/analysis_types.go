package v1alpha1

import (
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ClusterAnalysisTemplate is a cluster-wide, reusable set of analysis metrics that
// AnalysisRuns in any namespace can be built from.
// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:resource:path=clusteranalysistemplates,shortName=cat,scope=Cluster
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description="Time since resource was created"
type ClusterAnalysisTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the metrics, arguments and options of the template.
	Spec AnalysisTemplateSpec `json:"spec"`
}

// ClusterAnalysisTemplateList holds a set of ClusterAnalysisTemplate objects.
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type ClusterAnalysisTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []ClusterAnalysisTemplate `json:"items"`
}

// AnalysisTemplate is a namespaced, reusable set of analysis metrics that
// AnalysisRuns in the same namespace can be built from.
// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:resource:path=analysistemplates,shortName=at
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description="Time since resource was created"
type AnalysisTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the metrics, arguments and options of the template.
	Spec AnalysisTemplateSpec `json:"spec"`
}

// AnalysisTemplateList holds a set of AnalysisTemplate objects.
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type AnalysisTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []AnalysisTemplate `json:"items"`
}

// AnalysisTemplateSpec describes what an (cluster) analysis template measures.
type AnalysisTemplateSpec struct {
	// Metrics lists the measurements an AnalysisRun created from this template performs.
	// +patchMergeKey=name
	// +patchStrategy=merge
	Metrics []Metric `json:"metrics,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// Args declares the parameters the metrics may refer to as {{args.<name>}}.
	// +patchMergeKey=name
	// +patchStrategy=merge
	// +optional
	Args []Argument `json:"args,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// DryRun selects metrics whose outcome is recorded but never affects the run's phase.
	// +patchMergeKey=metricName
	// +patchStrategy=merge
	// +optional
	DryRun []DryRun `json:"dryRun,omitempty" patchStrategy:"merge" patchMergeKey:"metricName"`
	// MeasurementRetention overrides, per metric, how many measurements are kept in the run status.
	// +patchMergeKey=metricName
	// +patchStrategy=merge
	// +optional
	MeasurementRetention []MeasurementRetention `json:"measurementRetention,omitempty" patchStrategy:"merge" patchMergeKey:"metricName"`
	// Templates names further analysis templates whose metrics and args are merged into
	// the ones declared here when a run is created.
	// +patchMergeKey=templateName
	// +patchStrategy=merge
	// +optional
	Templates []AnalysisTemplateRef `json:"templates,omitempty" patchStrategy:"merge" patchMergeKey:"templateName"`
}

// DurationString is a duration in Go syntax, such as "30s", "5m" or "1h30m".
type DurationString string

// Duration parses the string as a time.Duration.
func (d DurationString) Duration() (time.Duration, error) {
	return time.ParseDuration(string(d))
}

// Metric is a single named measurement together with the rules that turn its
// results into a verdict.
type Metric struct {
	// Name identifies the metric; it must be unique within a run.
	Name string `json:"name"`
	// Interval is the pause between two measurements (e.g. 30s, 5m). When empty,
	// the metric is measured only once unless count says otherwise.
	// +optional
	Interval DurationString `json:"interval,omitempty"`
	// InitialDelay postpones the first measurement of this metric, counted from the
	// start of the run.
	// +optional
	InitialDelay DurationString `json:"initialDelay,omitempty"`
	// Count is how many measurements to take. Without count and interval one
	// measurement is taken; with only an interval the metric is measured until the
	// run is terminated. A count above one needs an interval.
	// +optional
	Count *intstr.IntOrString `json:"count,omitempty"`
	// SuccessCondition is an expression, evaluated against the variable `result`
	// (the provider's value), that marks a measurement Successful when true,
	// e.g. `result[0] >= 0.95`.
	// +optional
	SuccessCondition string `json:"successCondition,omitempty"`
	// FailureCondition is an expression, evaluated against `result`, that marks a
	// measurement Failed when true. When both conditions are set and neither
	// holds, the measurement is Inconclusive.
	// +optional
	FailureCondition string `json:"failureCondition,omitempty"`
	// FailureLimit is how many Failed measurements are tolerated before the metric
	// fails (default 0). The value -1 turns the limit off, which is only useful
	// together with consecutiveSuccessLimit.
	// +optional
	FailureLimit *intstr.IntOrString `json:"failureLimit,omitempty"`
	// InconclusiveLimit is how many Inconclusive measurements are tolerated before
	// the metric becomes Inconclusive (default 0).
	// +optional
	InconclusiveLimit *intstr.IntOrString `json:"inconclusiveLimit,omitempty"`
	// ConsecutiveErrorLimit is how many measurement errors in a row are tolerated
	// before the metric ends in Error (default 4).
	// +optional
	ConsecutiveErrorLimit *intstr.IntOrString `json:"consecutiveErrorLimit,omitempty"`
	// Provider says which system the measurement is taken from; exactly one
	// provider should be set.
	Provider MetricProvider `json:"provider"`
	// ConsecutiveSuccessLimit is how many Successful measurements in a row make the
	// metric Successful. 0, the default, disables this rule.
	// +optional
	ConsecutiveSuccessLimit *intstr.IntOrString `json:"consecutiveSuccessLimit,omitempty"`
}

// EffectiveCount returns how many measurements the metric takes in total:
// one when neither count nor interval is set, nil (no limit) when only an
// interval is set, and count otherwise. A count that is not an integer (for
// instance an unresolved argument placeholder) is treated as unset.
func (m *Metric) EffectiveCount() *intstr.IntOrString {
	if m.Count != nil && m.Count.IntValue() != 0 {
		return m.Count
	}
	if m.Interval != "" {
		return nil
	}
	one := intstr.FromInt32(1)
	return &one
}

// DryRun marks metrics that are evaluated without influencing the run's outcome.
type DryRun struct {
	// MetricName is a regular expression matched against metric names; ".*"
	// selects every metric.
	MetricName string `json:"metricName"`
}

// MeasurementRetention sets how many measurements are kept for matching metrics.
type MeasurementRetention struct {
	// MetricName is a regular expression matched against metric names.
	MetricName string `json:"metricName"`
	// Limit is the number of most recent measurements to keep.
	Limit int32 `json:"limit"`
}

// TTLStrategy controls when a finished AnalysisRun is garbage collected.
type TTLStrategy struct {
	// SecondsAfterCompletion deletes the run this many seconds after it finishes,
	// whatever its result.
	// +optional
	SecondsAfterCompletion *int32 `json:"secondsAfterCompletion,omitempty"`
	// SecondsAfterFailure deletes the run this many seconds after it finishes
	// unsuccessfully.
	// +optional
	SecondsAfterFailure *int32 `json:"secondsAfterFailure,omitempty"`
	// SecondsAfterSuccess deletes the run this many seconds after it finishes
	// successfully.
	// +optional
	SecondsAfterSuccess *int32 `json:"secondsAfterSuccess,omitempty"`
}

// MetricProvider selects the data source of a metric. Set exactly one field.
type MetricProvider struct {
	// Prometheus queries a Prometheus-compatible server.
	// +optional
	Prometheus *PrometheusMetric `json:"prometheus,omitempty"`
	// Kayenta runs a Kayenta canary judgement.
	// +optional
	Kayenta *KayentaMetric `json:"kayenta,omitempty"`
	// Web calls an HTTP endpoint and reads a value from its response.
	// +optional
	Web *WebMetric `json:"web,omitempty"`
	// Datadog queries Datadog.
	// +optional
	Datadog *DatadogMetric `json:"datadog,omitempty"`
	// Wavefront queries Wavefront.
	// +optional
	Wavefront *WavefrontMetric `json:"wavefront,omitempty"`
	// NewRelic runs an NRQL query against New Relic.
	// +optional
	NewRelic *NewRelicMetric `json:"newRelic,omitempty"`
	// Job runs a Kubernetes Job whose completion or failure is the measurement.
	// +optional
	Job *JobMetric `json:"job,omitempty"`
	// CloudWatch queries AWS CloudWatch metric data.
	// +optional
	CloudWatch *CloudWatchMetric `json:"cloudWatch,omitempty"`
	// Graphite queries a Graphite server.
	// +optional
	Graphite *GraphiteMetric `json:"graphite,omitempty"`
	// Influxdb runs a Flux query against InfluxDB.
	// +optional
	Influxdb *InfluxdbMetric `json:"influxdb,omitempty"`
	// SkyWalking runs a GraphQL query against Apache SkyWalking.
	// +optional
	SkyWalking *SkyWalkingMetric `json:"skywalking,omitempty"`
	// Plugin hands the measurement to a metric provider plugin. The single key is
	// the plugin's registered name (e.g. "example.com/my-plugin") and the value is
	// that plugin's own configuration.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	Plugin map[string]json.RawMessage `json:"plugin,omitempty"`
}

// AnalysisPhase is the state of an AnalysisRun, of one of its metrics, or of a
// single measurement. Experiments reuse it for their own phase.
type AnalysisPhase string

// The values an AnalysisPhase can take.
const (
	AnalysisPhasePending      AnalysisPhase = "Pending"
	AnalysisPhaseRunning      AnalysisPhase = "Running"
	AnalysisPhaseSuccessful   AnalysisPhase = "Successful"
	AnalysisPhaseFailed       AnalysisPhase = "Failed"
	AnalysisPhaseError        AnalysisPhase = "Error"
	AnalysisPhaseInconclusive AnalysisPhase = "Inconclusive"
)

// Completed reports whether the phase is terminal (Successful, Failed, Error or
// Inconclusive).
func (as AnalysisPhase) Completed() bool {
	return as == AnalysisPhaseSuccessful ||
		as == AnalysisPhaseFailed ||
		as == AnalysisPhaseError ||
		as == AnalysisPhaseInconclusive
}

// AnalysisRun is one execution of a set of metrics, typically created from
// analysis templates by a Rollout or an Experiment.
// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:resource:path=analysisruns,shortName=ar
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.phase",description="AnalysisRun status"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description="Time since resource was created"
type AnalysisRun struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// Spec holds the resolved metrics and arguments of the run.
	Spec AnalysisRunSpec `json:"spec"`
	// Status reports the progress and results of the run.
	// +optional
	Status AnalysisRunStatus `json:"status,omitempty"`
}

// AnalysisRunList holds a set of AnalysisRun objects.
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type AnalysisRunList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []AnalysisRun `json:"items"`
}

// AnalysisRunSpec describes what an AnalysisRun measures.
type AnalysisRunSpec struct {
	// Metrics lists the measurements the run performs.
	// +patchMergeKey=name
	// +patchStrategy=merge
	Metrics []Metric `json:"metrics" patchStrategy:"merge" patchMergeKey:"name"`
	// Args are the argument values substituted into the metrics.
	// +patchMergeKey=name
	// +patchStrategy=merge
	// +optional
	Args []Argument `json:"args,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// Terminate asks the controller to stop measuring and finish the run early.
	// +optional
	Terminate bool `json:"terminate,omitempty"`
	// DryRun selects metrics whose outcome is recorded but never affects the run's phase.
	// +patchMergeKey=metricName
	// +patchStrategy=merge
	// +optional
	DryRun []DryRun `json:"dryRun,omitempty" patchStrategy:"merge" patchMergeKey:"metricName"`
	// MeasurementRetention overrides, per metric, how many measurements are kept in the status.
	// +patchMergeKey=metricName
	// +patchStrategy=merge
	// +optional
	MeasurementRetention []MeasurementRetention `json:"measurementRetention,omitempty" patchStrategy:"merge" patchMergeKey:"metricName"`
	// TTLStrategy sets when the run is deleted after it has finished.
	// +optional
	TTLStrategy *TTLStrategy `json:"ttlStrategy,omitempty"`
}

// Argument is a named parameter of an analysis, given either inline or by reference.
type Argument struct {
	// Name of the argument, referenced as {{args.<name>}}.
	Name string `json:"name"`
	// Value is the literal value of the argument.
	// +optional
	Value *string `json:"value,omitempty"`
	// ValueFrom takes the value from a Secret or from a field of the owning object.
	// +optional
	ValueFrom *ValueFrom `json:"valueFrom,omitempty"`
}

// ValueFrom says where an argument's value comes from. Set one field.
type ValueFrom struct {
	// SecretKeyRef reads the value from a key of a Secret in the run's namespace.
	// +optional
	SecretKeyRef *SecretKeyRef `json:"secretKeyRef,omitempty"`
	// FieldRef reads the value from a field of the owning object's metadata.
	// +optional
	FieldRef *FieldRef `json:"fieldRef,omitempty"`
}

// SecretKeyRef points at one key of a Secret.
type SecretKeyRef struct {
	// Name of the Secret.
	Name string `json:"name"`
	// Key within the Secret's data.
	Key string `json:"key"`
}

// AnalysisRunStatus reports the progress and results of an AnalysisRun.
type AnalysisRunStatus struct {
	// Phase is the overall state of the run.
	Phase AnalysisPhase `json:"phase"`
	// Message explains the phase, e.g. which metric caused a failure.
	// +optional
	Message string `json:"message,omitempty"`
	// MetricResults holds one entry per metric with its recent measurements.
	// +optional
	MetricResults []MetricResult `json:"metricResults,omitempty"`
	// StartedAt is when the run began measuring.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// RunSummary counts the metrics of the run by outcome.
	// +optional
	RunSummary RunSummary `json:"runSummary,omitempty"`
	// DryRunSummary counts the dry-run metrics of the run by outcome.
	// +optional
	DryRunSummary *RunSummary `json:"dryRunSummary,omitempty"`
	// CompletedAt is when the run reached a terminal phase.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
}

// MetricResultByName returns the result entry of the named metric, or nil.
func (s *AnalysisRunStatus) MetricResultByName(name string) *MetricResult {
	for i := range s.MetricResults {
		if s.MetricResults[i].Name == name {
			return &s.MetricResults[i]
		}
	}
	return nil
}

// RunSummary tallies the metrics of a run by their outcome.
type RunSummary struct {
	// Count is the number of metrics.
	// +optional
	Count int32 `json:"count,omitempty"`
	// Successful is the number of metrics that ended Successful.
	// +optional
	Successful int32 `json:"successful,omitempty"`
	// Failed is the number of metrics that ended Failed.
	// +optional
	Failed int32 `json:"failed,omitempty"`
	// Inconclusive is the number of metrics that ended Inconclusive.
	// +optional
	Inconclusive int32 `json:"inconclusive,omitempty"`
	// Error is the number of metrics that ended in Error.
	// +optional
	Error int32 `json:"error,omitempty"`
}

// MetricResult keeps the recent measurements of one metric and running totals
// of their outcomes.
type MetricResult struct {
	// Name of the metric.
	Name string `json:"name"`
	// Phase is the verdict for the metric so far.
	Phase AnalysisPhase `json:"phase"`
	// Measurements are the most recent measurements, oldest first.
	// +optional
	Measurements []Measurement `json:"measurements,omitempty"`
	// Message gives details about the phase, such as the last error.
	// +optional
	Message string `json:"message,omitempty"`
	// Count is the number of measurements that did not error; it equals
	// successful + failed + inconclusive.
	// +optional
	Count int32 `json:"count,omitempty"`
	// Successful is the number of Successful measurements.
	// +optional
	Successful int32 `json:"successful,omitempty"`
	// Failed is the number of Failed measurements.
	// +optional
	Failed int32 `json:"failed,omitempty"`
	// Inconclusive is the number of Inconclusive measurements.
	// +optional
	Inconclusive int32 `json:"inconclusive,omitempty"`
	// Error is the number of measurements that ended in Error.
	// +optional
	Error int32 `json:"error,omitempty"`
	// ConsecutiveError is the length of the current streak of errored
	// measurements; any non-error measurement resets it.
	// +optional
	ConsecutiveError int32 `json:"consecutiveError,omitempty"`
	// DryRun is true when the metric runs in dry-run mode.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
	// Metadata is provider-specific state for the metric as a whole, such as the
	// query after argument substitution.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
	// ConsecutiveSuccess is the length of the current streak of Successful
	// measurements; any other outcome resets it.
	// +optional
	ConsecutiveSuccess int32 `json:"consecutiveSuccess,omitempty"`
}

// LastMeasurement returns the newest measurement of the metric, or nil.
func (r *MetricResult) LastMeasurement() *Measurement {
	if len(r.Measurements) == 0 {
		return nil
	}
	return &r.Measurements[len(r.Measurements)-1]
}

// Measurement is one observation of a metric.
type Measurement struct {
	// Phase is the outcome of this measurement.
	Phase AnalysisPhase `json:"phase"`
	// Message gives details, such as an error from the provider.
	// +optional
	Message string `json:"message,omitempty"`
	// StartedAt is when the measurement was started.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the measurement finished and its value was recorded.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Value is the provider's result in textual form.
	// +optional
	Value string `json:"value,omitempty"`
	// Metadata is provider-specific data about the measurement, such as a Job
	// name or a Kayenta canary id.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
	// ResumeAt is when an asynchronous measurement should next be checked.
	// +optional
	ResumeAt *metav1.Time `json:"resumeAt,omitempty"`
}

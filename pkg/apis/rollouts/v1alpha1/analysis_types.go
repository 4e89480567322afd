package v1alpha1

import (
	"encoding/json"
	"time"

	batchv1 "k8s.io/api/batch/v1"
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

// PrometheusRangeQueryArgs turns a Prometheus query into a range query.
type PrometheusRangeQueryArgs struct {
	// Start is an expression yielding the beginning of the range, for example
	// `now() - duration("10m")`.
	// +optional
	Start string `json:"start,omitempty"`
	// End is an expression yielding the end of the range, for example `now()`.
	// +optional
	End string `json:"end,omitempty"`
	// Step is the resolution of the range query (e.g. 30s, 1m).
	// +optional
	Step DurationString `json:"step,omitempty"`
}

// PrometheusMetric is a query against a Prometheus-compatible server.
type PrometheusMetric struct {
	// Address is the base URL of the Prometheus server.
	// +optional
	Address string `json:"address,omitempty"`
	// Query is the PromQL expression to evaluate.
	// +optional
	Query string `json:"query,omitempty"`
	// Authentication configures how requests to the server are authenticated.
	// +optional
	Authentication Authentication `json:"authentication,omitempty"`
	// Timeout bounds the query duration, in seconds.
	// +optional
	Timeout *int64 `json:"timeout,omitempty"`
	// Insecure disables verification of the server's TLS certificate.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
	// Headers are extra HTTP headers sent with each query.
	// +patchMergeKey=key
	// +patchStrategy=merge
	// +optional
	Headers []WebMetricHeader `json:"headers,omitempty" patchStrategy:"merge" patchMergeKey:"key"`
	// RangeQuery, when set, evaluates the query over a time range instead of at
	// a single instant.
	// +optional
	RangeQuery *PrometheusRangeQueryArgs `json:"rangeQuery,omitempty"`
}

// Authentication lists the supported ways to authenticate to a metric backend.
type Authentication struct {
	// Sigv4 signs requests with AWS Signature Version 4 (e.g. for Amazon Managed
	// Service for Prometheus).
	// +optional
	Sigv4 Sigv4Config `json:"sigv4,omitempty"`
	// OAuth2 obtains a bearer token with the OAuth2 client credentials flow.
	// +optional
	OAuth2 OAuth2Config `json:"oauth2,omitempty"`
	// BasicAuth sends HTTP basic authentication credentials.
	// +optional
	BasicAuth BasicAuthConfig `json:"basicAuth,omitempty"`
}

// OAuth2Config holds OAuth2 client credentials.
type OAuth2Config struct {
	// TokenURL is the token endpoint of the OAuth2 provider.
	// +optional
	TokenURL string `json:"tokenUrl,omitempty"`
	// ClientID is the OAuth2 client identifier.
	// +optional
	ClientID string `json:"clientId,omitempty"`
	// ClientSecret is the OAuth2 client secret.
	// +optional
	ClientSecret string `json:"clientSecret,omitempty"`
	// Scopes are the scopes requested with the token.
	// +optional
	Scopes []string `json:"scopes,omitempty"`
}

// Sigv4Config configures AWS SigV4 request signing.
type Sigv4Config struct {
	// Region is the AWS region used in the signature.
	// +optional
	Region string `json:"region,omitempty"`
	// Profile is the AWS shared credentials profile to sign with.
	// +optional
	Profile string `json:"profile,omitempty"`
	// RoleARN is an IAM role to assume before signing.
	// +optional
	RoleARN string `json:"roleArn,omitempty"`
}

// BasicAuthConfig holds HTTP basic authentication credentials.
type BasicAuthConfig struct {
	// Username is the basic auth user name.
	// +optional
	Username string `json:"username,omitempty"`
	// Password is the basic auth password or access token.
	// +optional
	Password string `json:"password,omitempty"`
}

// WavefrontMetric is a query against Wavefront.
type WavefrontMetric struct {
	// Address is the host (and optional port) of the Wavefront server.
	// +optional
	Address string `json:"address,omitempty"`
	// Query is the Wavefront query to run.
	// +optional
	Query string `json:"query,omitempty"`
}

// NewRelicMetric is an NRQL query against New Relic.
type NewRelicMetric struct {
	// Profile names the Secret with the New Relic account settings (default "newrelic").
	// +optional
	Profile string `json:"profile,omitempty"`
	// Query is the NRQL statement to run.
	Query string `json:"query"`
	// Timeout bounds the NRQL query duration, in seconds.
	// +optional
	Timeout *int64 `json:"timeout,omitempty"`
}

// JobMetric measures by running a Kubernetes Job: a completed Job is a
// successful measurement, a failed Job a failed one.
type JobMetric struct {
	// Metadata holds labels and annotations for the created Job.
	// +optional
	Metadata metav1.ObjectMeta `json:"metadata,omitempty"`
	// Spec is the specification of the Job to run.
	Spec batchv1.JobSpec `json:"spec"`
}

// GraphiteMetric is a query against Graphite.
type GraphiteMetric struct {
	// Address is the base URL of the Graphite server.
	// +optional
	Address string `json:"address,omitempty"`
	// Query is the Graphite target expression.
	// +optional
	Query string `json:"query,omitempty"`
}

// InfluxdbMetric is a Flux query against InfluxDB.
type InfluxdbMetric struct {
	// Profile names the Secret with the InfluxDB connection settings (default "influxdb").
	// +optional
	Profile string `json:"profile,omitempty"`
	// Query is the Flux query to run.
	// +optional
	Query string `json:"query,omitempty"`
}

// CloudWatchMetric is a GetMetricData request against AWS CloudWatch.
type CloudWatchMetric struct {
	// Interval is the length of the look-back window ending now (default 5m).
	// +optional
	Interval DurationString `json:"interval,omitempty"`
	// MetricDataQueries are the queries sent in the request.
	MetricDataQueries []CloudWatchMetricDataQuery `json:"metricDataQueries"`
}

// CloudWatchMetricDataQuery mirrors a CloudWatch MetricDataQuery.
type CloudWatchMetricDataQuery struct {
	// Id names the query so expressions can reference it.
	// +optional
	Id string `json:"id,omitempty"`
	// Expression is a metric math expression; use either this or metricStat.
	// +optional
	Expression *string `json:"expression,omitempty"`
	// Label is a human readable name for the returned series.
	// +optional
	Label *string `json:"label,omitempty"`
	// MetricStat names a metric and the statistic to return for it.
	// +optional
	MetricStat *CloudWatchMetricStat `json:"metricStat,omitempty"`
	// Period is the granularity, in seconds, of the returned points.
	// +optional
	Period *intstr.IntOrString `json:"period,omitempty"`
	// ReturnData says whether this query's result is returned (false for
	// intermediate queries).
	// +optional
	ReturnData *bool `json:"returnData,omitempty"`
}

// CloudWatchMetricStat is a metric plus the statistic to compute on it.
type CloudWatchMetricStat struct {
	// Metric identifies the CloudWatch metric.
	// +optional
	Metric CloudWatchMetricStatMetric `json:"metric,omitempty"`
	// Period is the granularity, in seconds, of the statistic.
	// +optional
	Period intstr.IntOrString `json:"period,omitempty"`
	// Stat is the statistic to compute, such as Average or p99.
	// +optional
	Stat string `json:"stat,omitempty"`
	// Unit is the unit the statistic is returned in.
	// +optional
	Unit string `json:"unit,omitempty"`
}

// CloudWatchMetricStatMetric identifies a CloudWatch metric.
type CloudWatchMetricStatMetric struct {
	// Dimensions narrow the metric down to one series.
	// +optional
	Dimensions []CloudWatchMetricStatMetricDimension `json:"dimensions,omitempty"`
	// MetricName is the name of the metric.
	// +optional
	MetricName string `json:"metricName,omitempty"`
	// Namespace is the CloudWatch namespace of the metric, e.g. AWS/EC2.
	// +optional
	Namespace *string `json:"namespace,omitempty"`
}

// CloudWatchMetricStatMetricDimension is one name/value dimension of a metric.
type CloudWatchMetricStatMetricDimension struct {
	// Name of the dimension.
	// +optional
	Name string `json:"name,omitempty"`
	// Value of the dimension.
	// +optional
	Value string `json:"value,omitempty"`
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

// SkyWalkingMetric is a GraphQL query against Apache SkyWalking.
type SkyWalkingMetric struct {
	// Address is the base URL of the SkyWalking OAP server.
	// +optional
	Address string `json:"address,omitempty"`
	// Query is the GraphQL query to run.
	// +optional
	Query string `json:"query,omitempty"`
	// Interval is the length of the look-back window the query covers.
	// +optional
	Interval DurationString `json:"interval,omitempty"`
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

// KayentaMetric runs a canary judgement with Kayenta.
type KayentaMetric struct {
	// Address is the base URL of the Kayenta service.
	Address string `json:"address"`
	// Application is the application name passed to Kayenta.
	Application string `json:"application"`
	// CanaryConfigName is the Kayenta canary configuration to use.
	CanaryConfigName string `json:"canaryConfigName"`
	// MetricsAccountName is the Kayenta account that reads metrics.
	MetricsAccountName string `json:"metricsAccountName"`
	// ConfigurationAccountName is the Kayenta account that stores canary configurations.
	ConfigurationAccountName string `json:"configurationAccountName"`
	// StorageAccountName is the Kayenta account that stores results.
	StorageAccountName string `json:"storageAccountName"`
	// Threshold holds the score limits of the judgement.
	Threshold KayentaThreshold `json:"threshold"`
	// Scopes are the control/experiment scope pairs to compare.
	Scopes []KayentaScope `json:"scopes"`
	// Lookback makes the judgement use a sliding look-back window.
	// +optional
	Lookback bool `json:"lookback,omitempty"`
}

// KayentaThreshold holds the score limits of a Kayenta judgement.
type KayentaThreshold struct {
	// Pass is the minimum score for a Successful measurement.
	Pass int64 `json:"pass"`
	// Marginal is the minimum score for an Inconclusive (rather than Failed) measurement.
	Marginal int64 `json:"marginal"`
}

// KayentaScope is a named pair of control and experiment scopes.
type KayentaScope struct {
	// Name of the scope pair.
	Name string `json:"name"`
	// ControlScope describes the baseline series.
	ControlScope ScopeDetail `json:"controlScope"`
	// ExperimentScope describes the canary series.
	ExperimentScope ScopeDetail `json:"experimentScope"`
}

// ScopeDetail selects a time series for Kayenta.
type ScopeDetail struct {
	// Scope is the series selector understood by the metrics source.
	Scope string `json:"scope"`
	// Region is the location of the series.
	Region string `json:"region"`
	// Step is the sampling step in seconds.
	Step int64 `json:"step"`
	// Start is the beginning of the time window (RFC 3339).
	// +optional
	Start string `json:"start,omitempty"`
	// End is the end of the time window (RFC 3339).
	// +optional
	End string `json:"end,omitempty"`
}

// WebMetric takes a measurement by calling an HTTP endpoint.
type WebMetric struct {
	// Method is the HTTP method to use; GET when empty.
	// +optional
	Method WebMetricMethod `json:"method,omitempty"`
	// URL is the endpoint to call.
	URL string `json:"url"`
	// Headers are extra HTTP headers sent with the request.
	// +patchMergeKey=key
	// +patchStrategy=merge
	// +optional
	Headers []WebMetricHeader `json:"headers,omitempty" patchStrategy:"merge" patchMergeKey:"key"`
	// Body is a raw request body; only used with POST and PUT.
	// +optional
	Body string `json:"body,omitempty"`
	// TimeoutSeconds bounds the request duration (default 10).
	// +optional
	TimeoutSeconds int64 `json:"timeoutSeconds,omitempty"`
	// JSONPath selects the result from the response body (default "{$}").
	// +optional
	JSONPath string `json:"jsonPath,omitempty"`
	// Insecure disables verification of the server's TLS certificate.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
	// JSONBody is a request body given as a JSON object; only used with POST
	// and PUT, and not together with body.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	JSONBody json.RawMessage `json:"jsonBody,omitempty"`
	// Authentication configures how the request is authenticated.
	// +optional
	Authentication Authentication `json:"authentication,omitempty"`
}

// WebMetricMethod is an HTTP method a web metric may use.
type WebMetricMethod string

// The supported web metric methods.
const (
	WebMetricMethodGet  WebMetricMethod = "GET"
	WebMetricMethodPost WebMetricMethod = "POST"
	WebMetricMethodPut  WebMetricMethod = "PUT"
)

// WebMetricHeader is one HTTP header.
type WebMetricHeader struct {
	// Key is the header name.
	Key string `json:"key"`
	// Value is the header value.
	Value string `json:"value"`
}

// DatadogMetric is a query against Datadog, through API v1 (query) or v2
// (queries and formula).
type DatadogMetric struct {
	// Interval is the time window the query aggregates over, ending now; not the
	// polling interval of the metric.
	// +kubebuilder:default="5m"
	// +optional
	Interval DurationString `json:"interval,omitempty"`
	// Query is a single Datadog metrics query.
	// +optional
	Query string `json:"query,omitempty"`
	// Queries maps names to queries that the formula can combine (API v2 only).
	// +kubebuilder:validation:Type=object
	// +optional
	Queries map[string]string `json:"queries,omitempty"`
	// Formula combines the named queries into one value (API v2 only).
	// +optional
	Formula string `json:"formula,omitempty"`
	// ApiVersion is the Datadog API version to call.
	// +kubebuilder:validation:Enum=v1;v2
	// +kubebuilder:default=v1
	// +optional
	ApiVersion string `json:"apiVersion,omitempty"`
	// Aggregator reduces a series to one value for metric queries (API v2 only).
	// +kubebuilder:validation:Enum=avg;min;max;sum;last;percentile;mean;l2norm;area
	// +optional
	Aggregator string `json:"aggregator,omitempty"`
	// SecretRef names the Secret with the Datadog API credentials; by default
	// the controller's own Datadog Secret is used.
	// +optional
	SecretRef SecretRef `json:"secretRef,omitempty"`
	// RequestTimeout bounds each HTTP request to the Datadog API.
	// +kubebuilder:default="10s"
	// +optional
	RequestTimeout DurationString `json:"requestTimeout,omitempty"`
}

// SecretRef names a Secret holding provider credentials.
type SecretRef struct {
	// Name of the Secret.
	// +optional
	Name string `json:"name,omitempty"`
	// Namespaced, when true, looks the Secret up in the AnalysisRun's namespace
	// instead of the controller's namespace.
	// +optional
	Namespaced bool `json:"namespaced,omitempty"`
}

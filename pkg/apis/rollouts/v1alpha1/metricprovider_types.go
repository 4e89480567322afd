package v1alpha1

import (
	"encoding/json"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The settings of each metric provider, as a Metric's provider field holds them.

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

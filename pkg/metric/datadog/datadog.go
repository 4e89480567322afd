// Package datadog measures a metric with a Datadog metrics query, through
// either the v1 query API (the last point of the first series) or the v2
// scalar query API (queries combined by a formula and reduced by an
// aggregator).
package datadog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
	"github.com/serin-dev/serin/pkg/metric/measure"
)

// ProviderType is the provider's name in metrics and events.
const ProviderType = "Datadog"

const (
	// SecretName is the Secret read from the controller's namespace when the
	// metric names none and the environment holds no credentials.
	SecretName = "datadog"
	// Keys of the credentials Secret.
	apiKeyKey  = "api-key"
	appKeyKey  = "app-key"
	addressKey = "address"

	// Environment variables consulted before the default Secret.
	envAPIKey  = "DD_API_KEY"
	envAppKey  = "DD_APP_KEY"
	envAddress = "DD_ADDRESS"

	defaultAddress  = "https://api.datadoghq.com"
	defaultInterval = 5 * time.Minute
	defaultTimeout  = 10 * time.Second
	// defaultAggregator is what v2 queries are reduced with unless the
	// metric says otherwise; the API rejects an empty aggregator.
	defaultAggregator = "last"

	// maxGroups caps how many (group, value) pairs of a grouped v2 query
	// are recorded in the measurement's metadata. The pairs are for people
	// reading the run; conditions always see every value.
	maxGroups = 100
)

// Provider queries Datadog. It is safe for concurrent use.
type Provider struct {
	client              *http.Client
	secrets             metric.SecretGetter
	controllerNamespace string
	evaluate            metric.EvaluateFunc

	now       func() time.Time
	lookupEnv func(string) (string, bool)
}

var _ metric.Provider = (*Provider)(nil)

// New returns a Datadog provider. client sends the requests (its own
// timeout, if any, still applies; each request is also bounded by the
// metric's requestTimeout; httpclient.Default() when nil), secrets reads
// the credentials Secret, controllerNamespace is where the default Secret
// lives, and evaluate turns a query result into a phase (pass
// metric.Evaluate).
func New(client *http.Client, secrets metric.SecretGetter, controllerNamespace string, evaluate metric.EvaluateFunc) *Provider {
	if client == nil {
		client = httpclient.Default()
	}
	return &Provider{
		client:              client,
		secrets:             secrets,
		controllerNamespace: controllerNamespace,
		evaluate:            evaluate,
		now:                 time.Now,
		lookupEnv:           os.LookupEnv,
	}
}

// Type returns "Datadog".
func (p *Provider) Type() string { return ProviderType }

// Metadata returns nothing for Datadog.
func (p *Provider) Metadata(v1alpha1.Metric) map[string]string { return nil }

// Resume returns the measurement unchanged: Datadog measurements finish in Run.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// Terminate returns the measurement unchanged: Datadog measurements finish in Run.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// GarbageCollect has nothing to remove.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// credentials are what a request to Datadog is signed with.
type credentials struct {
	address string
	apiKey  string
	appKey  string
}

// Run sends the metric's query and judges its result.
func (p *Provider) Run(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	dd := m.Provider.Datadog
	if dd == nil {
		return metric.MarkError(out, fmt.Errorf("datadog: metric %q has no datadog provider", m.Name))
	}
	cfg, err := readConfig(dd)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("datadog: %v", err))
	}
	creds, err := p.findCredentials(ctx, run, dd)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("datadog: %v", err))
	}
	out = p.measure(ctx, m, cfg, creds)
	return metric.NoteTimeout(metric.RedactMeasurement(out, []string{creds.apiKey, creds.appKey}), cfg.timeoutNote)
}

// config is a validated DatadogMetric with its defaults applied.
type config struct {
	version  string
	interval time.Duration
	timeout  time.Duration
	// timeoutNote says that requestTimeout was lowered to the ceiling.
	timeoutNote string
	query       string
	queries     map[string]string
	formula     string
	aggregator  string
}

// readConfig checks the combinations the CRD schema cannot express and
// fills in the defaults (apiVersion v1, interval 5m, requestTimeout 10s). A
// requestTimeout above httpclient.MaxTimeout is lowered to it.
func readConfig(dd *v1alpha1.DatadogMetric) (config, error) {
	c := config{
		version:    dd.ApiVersion,
		query:      dd.Query,
		queries:    dd.Queries,
		formula:    dd.Formula,
		aggregator: dd.Aggregator,
		interval:   defaultInterval,
		timeout:    defaultTimeout,
	}
	switch c.version {
	case "":
		c.version = "v1"
	case "v1", "v2":
	default:
		return c, fmt.Errorf("apiVersion %q is not supported, use v1 or v2", dd.ApiVersion)
	}
	switch {
	case c.query == "" && len(c.queries) == 0:
		return c, errors.New("the metric needs a query or queries")
	case c.query != "" && len(c.queries) > 0:
		return c, errors.New("set either query or queries, not both")
	case c.version == "v1" && c.query == "":
		return c, errors.New("apiVersion v1 takes a single query; queries and formula need apiVersion v2")
	case c.formula != "" && len(c.queries) == 0:
		return c, errors.New("a formula needs queries to combine")
	case c.formula == "" && len(c.queries) > 1:
		return c, errors.New("several queries need a formula that combines them")
	case c.version == "v1" && c.aggregator != "":
		return c, errors.New("aggregator needs apiVersion v2")
	}
	if dd.Interval != "" {
		d, err := dd.Interval.Duration()
		if err != nil {
			return c, fmt.Errorf("interval %q: %v", dd.Interval, err)
		}
		c.interval = d
	}
	if dd.RequestTimeout != "" {
		d, err := dd.RequestTimeout.Duration()
		if err != nil {
			return c, fmt.Errorf("requestTimeout %q: %v", dd.RequestTimeout, err)
		}
		if d <= 0 {
			return c, fmt.Errorf("requestTimeout %q must be positive", dd.RequestTimeout)
		}
		c.timeout, c.timeoutNote = httpclient.LimitTimeout(d)
	}
	if c.version == "v2" && c.query != "" {
		c.queries = map[string]string{"query": c.query}
	}
	if c.aggregator == "" {
		c.aggregator = defaultAggregator
	}
	return c, nil
}

// findCredentials looks for the API and application keys where Argo
// Rollouts does. A metric that names a Secret is served from that Secret
// only: in the run's namespace when secretRef.namespaced is set, otherwise
// in the controller's. A metric that names none is served from the
// DD_API_KEY, DD_APP_KEY and DD_ADDRESS variables when all three are set,
// else from the Secret "datadog" in the controller's namespace.
func (p *Provider) findCredentials(ctx context.Context, run *v1alpha1.AnalysisRun, dd *v1alpha1.DatadogMetric) (credentials, error) {
	ref := dd.SecretRef
	if ref.Namespaced && ref.Name == "" {
		return credentials{}, errors.New("secretRef.namespaced needs secretRef.name")
	}
	if ref.Name != "" {
		ns := p.controllerNamespace
		if ref.Namespaced && run != nil {
			ns = run.Namespace
		}
		return p.fromSecret(ctx, ns, ref.Name)
	}
	if c, ok := p.fromEnv(); ok {
		return c, nil
	}
	c, err := p.fromSecret(ctx, p.controllerNamespace, SecretName)
	if err != nil {
		return c, fmt.Errorf("%v (and %s, %s, %s are not all set)", err, envAPIKey, envAppKey, envAddress)
	}
	return c, nil
}

// fromEnv reads the credentials from the environment. Like Argo Rollouts it
// only takes them when all three variables exist, DD_ADDRESS possibly empty.
func (p *Provider) fromEnv() (credentials, bool) {
	apiKey, ok1 := p.lookupEnv(envAPIKey)
	appKey, ok2 := p.lookupEnv(envAppKey)
	address, ok3 := p.lookupEnv(envAddress)
	if !ok1 || !ok2 || !ok3 || apiKey == "" || appKey == "" {
		return credentials{}, false
	}
	return credentials{address: address, apiKey: apiKey, appKey: appKey}, true
}

// fromSecret reads the credentials from one Secret. Errors name the Secret
// and the missing keys, never a value.
func (p *Provider) fromSecret(ctx context.Context, namespace, name string) (credentials, error) {
	if p.secrets == nil {
		return credentials{}, fmt.Errorf("cannot read Secret %s/%s: no Secret reader configured", namespace, name)
	}
	s, err := p.secrets.GetSecret(ctx, namespace, name)
	if err != nil {
		return credentials{}, fmt.Errorf("cannot read Secret %s/%s with the Datadog credentials: %v", namespace, name, err)
	}
	c := credentials{
		address: string(s.Data[addressKey]),
		apiKey:  string(s.Data[apiKeyKey]),
		appKey:  string(s.Data[appKeyKey]),
	}
	var missing []string
	if c.apiKey == "" {
		missing = append(missing, apiKeyKey)
	}
	if c.appKey == "" {
		missing = append(missing, appKeyKey)
	}
	if len(missing) > 0 {
		return credentials{}, fmt.Errorf("Secret %s/%s lacks %s", namespace, name, strings.Join(missing, " and "))
	}
	return c, nil
}

// measure sends the query and turns the answer into a measurement.
func (p *Provider) measure(ctx context.Context, m v1alpha1.Metric, cfg config, creds credentials) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	address, err := apiAddress(creds)
	if err != nil {
		return metric.MarkError(out, err)
	}
	to := p.now().Unix()
	from := to - int64(cfg.interval.Seconds())

	req, err := newRequest(address, cfg, creds, from, to)
	if err != nil {
		return metric.MarkError(out, err)
	}
	body, err := p.call(ctx, req)
	if err != nil {
		return metric.MarkError(out, err)
	}
	r, err := parse(cfg, body)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("datadog: %v", err))
	}
	out.Value = r.value
	if len(r.metadata) > 0 {
		out.Metadata = r.metadata
	}
	return p.judge(out, r, m)
}

// apiAddress is the Datadog address to query, without a trailing slash,
// defaultAddress when the credentials give none.
func apiAddress(creds credentials) (string, error) {
	address := strings.TrimRight(creds.address, "/")
	if address == "" {
		address = defaultAddress
	}
	if _, err := url.Parse(address); err != nil {
		return "", fmt.Errorf("datadog: address %q is not a URL: %v", address, err)
	}
	return address, nil
}

// newRequest builds the v1 or v2 query request for the window [from, to]
// with the JSON and key headers and the configured timeout.
func newRequest(address string, cfg config, creds credentials, from, to int64) (httpclient.Request, error) {
	var req httpclient.Request
	var err error
	if cfg.version == "v1" {
		req, err = v1Request(address, cfg.query, from, to)
	} else {
		req, err = v2Request(address, cfg, from, to)
	}
	if err != nil {
		return req, fmt.Errorf("datadog: building the request: %v", err)
	}
	req.Header = map[string]string{
		"Content-Type":       "application/json",
		"Accept":             "application/json",
		"DD-API-KEY":         creds.apiKey,
		"DD-APPLICATION-KEY": creds.appKey,
	}
	req.Timeout = cfg.timeout
	req.Accept = func(code int) bool { return code == http.StatusOK }
	return req, nil
}

// call sends req and returns the answer's body; an answer other than 200
// is an error, worded apart for refused keys.
func (p *Provider) call(ctx context.Context, req httpclient.Request) ([]byte, error) {
	resp, err := httpclient.Do(ctx, p.client, req)
	var status *httpclient.StatusError
	switch {
	case errors.As(err, &status) && (status.StatusCode == http.StatusUnauthorized || status.StatusCode == http.StatusForbidden):
		return nil, fmt.Errorf("datadog: %s answered %d, the API or application key was refused: %s", status.Host, status.StatusCode, measure.Snippet(status.Body))
	case err != nil:
		return nil, fmt.Errorf("datadog: %w", err)
	}
	return resp.Body, nil
}

// parse reads the answer with the parser of the configured API version.
func parse(cfg config, body []byte) (result, error) {
	if cfg.version == "v1" {
		return parseV1(body)
	}
	return parseV2(body)
}

// judge evaluates the metric's conditions against the result and sets out's
// phase.
func (p *Provider) judge(out v1alpha1.Measurement, r result, m v1alpha1.Metric) v1alpha1.Measurement {
	if p.evaluate == nil {
		return metric.MarkError(out, errors.New("datadog: no condition evaluator configured"))
	}
	phase, err := p.evaluate(r.typed, m)
	if err != nil {
		return metric.MarkError(out, err)
	}
	out.Phase = phase
	return out
}

// Package prometheus is the Prometheus metric provider: it runs a PromQL
// instant or range query and judges the result with the metric's
// conditions. A scalar result is `result` as a float64; a vector, or a
// matrix flattened series by series, is a []float64 (so `result[0]`), empty
// when nothing matched. The measured value is recorded as "0.99" or "[0.99]";
// a list longer than metric.MaxListItems as its first elements and a count.
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"k8s.io/utils/clock"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
)

const (
	// ProviderType is the provider's name in metrics and logs.
	ProviderType = "Prometheus"
	// ResolvedQueryKey is the metric result metadata key of the query after
	// argument substitution.
	ResolvedQueryKey = "ResolvedPrometheusQuery"
	// AddressEnv names the environment variable with the address used by
	// metrics that set none.
	AddressEnv = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS"
	// DefaultTimeout bounds a query whose metric sets no timeout.
	DefaultTimeout = 30 * time.Second
)

// Options configure the provider beyond the metric itself.
type Options struct {
	// DefaultAddress is used when the metric has no address (the value of
	// ARGO_ROLLOUTS_PROMETHEUS_ADDRESS in the controller).
	DefaultAddress string
	// Clock gives the instant of instant queries and now() in range
	// queries, and signs SigV4 requests; the real clock by default.
	Clock clock.PassiveClock
	// AWSCredentials signs requests to Amazon Managed Service for
	// Prometheus; the AWS default credential chain when nil.
	AWSCredentials CredentialsSource
	// AWSEndpoint tells which URLs signed requests may go to; IsAWSEndpoint
	// when nil (tests point it at a local server).
	AWSEndpoint func(*url.URL) bool
}

// Provider queries one Prometheus server for one metric.
type Provider struct {
	api     promv1.API
	timeout time.Duration
	// timeoutNote says that the metric's timeout was lowered to the ceiling.
	timeoutNote string
	clock       clock.PassiveClock
}

var _ metric.Provider = (*Provider)(nil)

// New builds the provider of a metric whose provider is prometheus. A
// timeout above httpclient.MaxTimeout is lowered to it, and each
// measurement says so. Responses are read up to httpclient.MaxResponseBytes.
func New(m v1alpha1.Metric, o Options) (*Provider, error) {
	spec := m.Provider.Prometheus
	if spec == nil {
		return nil, errors.New("metric has no prometheus provider")
	}
	address := spec.Address
	if address == "" {
		address = o.DefaultAddress
	}
	if address == "" {
		return nil, errors.New("prometheus address is not configured")
	}
	if !isURL(address) {
		return nil, errors.New("prometheus address is not is url format")
	}
	var err error
	timeout, note := DefaultTimeout, ""
	if spec.Timeout != nil {
		if *spec.Timeout < 0 {
			return nil, errors.New("prometheus timeout should not be negative")
		}
		timeout, note = httpclient.LimitSeconds(*spec.Timeout)
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	var wrap func(http.RoundTripper) http.RoundTripper
	if cfg := spec.Authentication.Sigv4; cfg != (v1alpha1.Sigv4Config{}) && strings.Contains(address, "aps-workspaces") {
		if wrap, err = newSigner(cfg, o); err != nil {
			return nil, err
		}
	}
	client, err := httpclient.New(httpclient.Config{
		Wrap:      wrap,
		Insecure:  spec.Insecure,
		Headers:   spec.Headers,
		BasicAuth: spec.Authentication.BasicAuth,
		OAuth2:    spec.Authentication.OAuth2,
	})
	if err != nil {
		return nil, err
	}
	c, err := api.NewClient(api.Config{Address: address, Client: client})
	if err != nil {
		return nil, err
	}
	return &Provider{api: promv1.NewAPI(c), timeout: timeout, timeoutNote: note, clock: o.Clock}, nil
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

// Type is "Prometheus".
func (p *Provider) Type() string { return ProviderType }

// Metadata records the query after argument substitution.
func (p *Provider) Metadata(m v1alpha1.Metric) map[string]string {
	if m.Provider.Prometheus == nil || m.Provider.Prometheus.Query == "" {
		return nil
	}
	return map[string]string{ResolvedQueryKey: m.Provider.Prometheus.Query}
}

// Run queries Prometheus once and judges the result.
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	return metric.NoteTimeout(p.measure(ctx, m), p.timeoutNote)
}

func (p *Provider) measure(ctx context.Context, m v1alpha1.Metric) v1alpha1.Measurement {
	var meas v1alpha1.Measurement
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	value, warnings, err := p.query(ctx, m.Provider.Prometheus)
	if err != nil {
		return metric.MarkError(meas, err)
	}
	result, display, err := convert(value)
	if err != nil {
		return metric.MarkError(meas, err)
	}
	meas.Value = display
	if len(warnings) > 0 {
		quoted := make([]string, len(warnings))
		for i, w := range warnings {
			quoted[i] = fmt.Sprintf("%q", w)
		}
		meas.Metadata = map[string]string{"warnings": strings.Join(quoted, ", ")}
	}
	phase, err := metric.Evaluate(result, m)
	if err != nil {
		return metric.MarkError(meas, err)
	}
	meas.Phase = phase
	return meas
}

// query runs the metric's instant query, or its range query when
// rangeQuery is set.
func (p *Provider) query(ctx context.Context, spec *v1alpha1.PrometheusMetric) (model.Value, promv1.Warnings, error) {
	now := p.clock.Now()
	rq := spec.RangeQuery
	if rq == nil {
		v, warnings, _, err := p.api.Query(ctx, spec.Query, now)
		return v, warnings, err
	}
	start, err := metric.EvalTime(rq.Start, now)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse rangeQuery.start as time: %w", err)
	}
	end, err := metric.EvalTime(rq.End, now)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse rangeQuery.end as time: %w", err)
	}
	step, err := rq.Step.Duration()
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse rangeQuery.step as duration: %w", err)
	}
	v, warnings, _, err := p.api.QueryRange(ctx, spec.Query, promv1.Range{Start: start, End: end, Step: step})
	return v, warnings, err
}

// convert turns a query result into the value conditions see and the text
// recorded in the measurement.
func convert(v model.Value) (any, string, error) {
	switch v := v.(type) {
	case *model.Scalar:
		return float64(v.Value), v.Value.String(), nil
	case model.Vector:
		var values []model.SampleValue
		for _, s := range v {
			if s != nil {
				values = append(values, s.Value)
			}
		}
		return floats(values), list(values), nil
	case model.Matrix:
		var values []model.SampleValue
		for _, series := range v {
			if series == nil {
				continue
			}
			for _, pair := range series.Values {
				values = append(values, pair.Value)
			}
		}
		return floats(values), list(values), nil
	}
	return nil, "", errors.New("Prometheus metric type not supported")
}

func floats(values []model.SampleValue) []float64 {
	out := make([]float64, len(values))
	for i, v := range values {
		out[i] = float64(v)
	}
	return out
}

// list writes values for the measurement: all of them, or the first
// metric.MaxListItems and a count (metric.FormatList).
func list(values []model.SampleValue) string {
	return metric.FormatList(len(values), func(i int) string { return values[i].String() })
}

// Resume returns the measurement unchanged: queries finish in Run.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// Terminate returns the measurement unchanged: queries finish in Run.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// GarbageCollect has nothing to remove.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

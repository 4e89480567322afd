// Package web is the web metric provider: it calls an HTTP endpoint, picks
// a value out of the JSON response with a JSONPath (the whole document by
// default) and judges it with the metric's conditions. A JSON object is
// `result` as a map (so `result.successful == true`), a number a float64;
// a body that is not JSON is `result` as a string.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"k8s.io/client-go/util/jsonpath"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
)

const (
	// ProviderType is the provider's name in metrics and logs.
	ProviderType = "Web"
	// DefaultTimeout bounds a request whose metric sets no timeoutSeconds.
	DefaultTimeout = 10 * time.Second
	// DefaultJSONPath selects the whole response.
	DefaultJSONPath = "{$}"
)

// Provider calls one endpoint for one metric.
type Provider struct {
	client  *http.Client
	path    *jsonpath.JSONPath
	timeout time.Duration
	// timeoutNote says that timeoutSeconds was lowered to the ceiling.
	timeoutNote string
}

var _ metric.Provider = (*Provider)(nil)

// New builds the provider of a metric whose provider is web. A
// timeoutSeconds above httpclient.MaxTimeout is lowered to it, and each
// measurement says so.
func New(m v1alpha1.Metric) (*Provider, error) {
	spec := m.Provider.Web
	if spec == nil {
		return nil, errors.New("metric has no web provider")
	}
	timeout, note := DefaultTimeout, ""
	if spec.TimeoutSeconds > 0 {
		timeout, note = httpclient.LimitSeconds(spec.TimeoutSeconds)
	}
	client, err := httpclient.New(httpclient.Config{
		Insecure: spec.Insecure,
		Timeout:  timeout,
		OAuth2:   spec.Authentication.OAuth2,
	})
	if err != nil {
		return nil, err
	}
	expr := spec.JSONPath
	if expr == "" {
		expr = DefaultJSONPath
	}
	path := jsonpath.New("metrics")
	if err := path.Parse(expr); err != nil {
		return nil, err
	}
	return &Provider{client: client, path: path, timeout: timeout, timeoutNote: note}, nil
}

// Type is "Web".
func (p *Provider) Type() string { return ProviderType }

// Metadata is empty for web metrics.
func (p *Provider) Metadata(v1alpha1.Metric) map[string]string { return nil }

// Run calls the endpoint once and judges the selected value.
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	return metric.NoteTimeout(p.measure(ctx, m), p.timeoutNote)
}

func (p *Provider) measure(ctx context.Context, m v1alpha1.Metric) v1alpha1.Measurement {
	var meas v1alpha1.Measurement
	req, err := newRequest(m.Provider.Web)
	if err != nil {
		return metric.MarkError(meas, err)
	}
	req.Timeout = p.timeout
	resp, err := httpclient.Do(ctx, p.client, req)
	var status *httpclient.StatusError
	if errors.As(err, &status) {
		return metric.MarkError(meas, fmt.Errorf("received non 2xx response code: %v", status.StatusCode))
	}
	if err != nil {
		return metric.MarkError(meas, err)
	}
	result, display, err := p.selectValue(resp.Body)
	if err != nil {
		return metric.MarkError(meas, err)
	}
	meas.Value = display
	phase, err := metric.Evaluate(result, m)
	if err != nil {
		return metric.MarkError(meas, err)
	}
	meas.Phase = phase
	return meas
}

// newRequest builds the metric's request: GET unless told otherwise, with
// a body (raw or JSON) only for POST and PUT.
func newRequest(spec *v1alpha1.WebMetric) (httpclient.Request, error) {
	method := spec.Method
	if method == "" {
		method = v1alpha1.WebMetricMethodGet
	}
	hasJSON := len(spec.JSONBody) > 0
	switch {
	case spec.Body != "" && hasJSON:
		return httpclient.Request{}, errors.New("use either Body or JSONBody; both cannot exists for WebMetric payload")
	case (spec.Body != "" || hasJSON) && method == v1alpha1.WebMetricMethodGet:
		return httpclient.Request{}, errors.New("Body/JSONBody can only be used with POST or PUT WebMetric Method types")
	}
	req := httpclient.Request{Method: string(method), URL: spec.URL, Header: map[string]string{}}
	switch {
	case spec.Body != "":
		req.Body = []byte(spec.Body)
	case hasJSON:
		req.Body = spec.JSONBody
	}
	for _, h := range spec.Headers {
		req.Header[http.CanonicalHeaderKey(h.Key)] = h.Value
	}
	if hasJSON {
		req.Header["Content-Type"] = "application/json"
	}
	return req, nil
}

// selectValue applies the JSONPath to a JSON body and returns the first
// value found, with its JSON text. A body that is not JSON is the value
// itself, as a string.
func (p *Provider) selectValue(body []byte) (any, string, error) {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return string(body), string(body), nil
	}
	found, err := p.path.FindResults(doc)
	if err != nil {
		return nil, "", fmt.Errorf("Could not find JSONPath in body: %s", err)
	}
	for _, values := range found {
		for _, v := range values {
			value := v.Interface()
			text, err := json.Marshal(value)
			return value, string(text), err
		}
	}
	return nil, "", errors.New("result of web metric produced no value")
}

// Resume returns the measurement unchanged: requests finish in Run.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// Terminate returns the measurement unchanged: requests finish in Run.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// GarbageCollect has nothing to remove.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

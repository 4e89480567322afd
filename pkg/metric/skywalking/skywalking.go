// Package skywalking measures a metric with a GraphQL query against an
// Apache SkyWalking OAP server.
package skywalking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
)

// ProviderType is the provider's name in metrics and events; Argo Rollouts
// spells it in lower case.
const ProviderType = "skywalking"

const (
	defaultInterval = 5 * time.Minute
	queryTimeout    = 30 * time.Second
	// durationLayout is how SkyWalking's Duration input writes a minute.
	durationLayout = "2006-01-02 1504"
)

// Provider queries SkyWalking. It is safe for concurrent use.
type Provider struct {
	client   *http.Client
	evaluate metric.EvaluateFunc
	now      func() time.Time
}

var _ metric.Provider = (*Provider)(nil)

// New returns a SkyWalking provider: client sends the requests and evaluate
// turns the query's data into a phase (pass metric.Evaluate). SkyWalking
// needs no credentials. A nil client is httpclient.Default().
func New(client *http.Client, evaluate metric.EvaluateFunc) *Provider {
	if client == nil {
		client = httpclient.Default()
	}
	return &Provider{client: client, evaluate: evaluate, now: time.Now}
}

// Type returns "skywalking".
func (p *Provider) Type() string { return ProviderType }

// Metadata returns nothing for SkyWalking.
func (p *Provider) Metadata(v1alpha1.Metric) map[string]string { return nil }

// Resume returns the measurement unchanged: SkyWalking measurements finish in Run.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// Terminate returns the measurement unchanged: SkyWalking measurements finish in Run.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// GarbageCollect has nothing to remove.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// duration is SkyWalking's Duration input: the minutes from start to end.
type duration struct {
	Start string `json:"start"`
	End   string `json:"end"`
	Step  string `json:"step"`
}

// graphQLRequest is the body sent to /graphql.
type graphQLRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// graphQLResponse is the GraphQL answer.
type graphQLResponse struct {
	Data   any `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// Run posts the metric's query to <address>/graphql with the variable
// $duration covering the metric's interval (default 5m) up to now, by the
// minute, and judges the query's data: conditions see the GraphQL "data"
// object, e.g. `result.service_apdex.values.values`.
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	sw := m.Provider.SkyWalking
	if sw == nil {
		return metric.MarkError(out, fmt.Errorf("skywalking: metric %q has no skywalking provider", m.Name))
	}
	window, err := interval(sw)
	if err != nil {
		return metric.MarkError(out, err)
	}
	base, err := url.Parse(sw.Address)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return metric.MarkError(out, fmt.Errorf("skywalking: address %q is not a valid URL", sw.Address))
	}
	endpoint := strings.TrimRight(sw.Address, "/") + "/graphql"
	payload, err := p.requestBody(sw.Query, window)
	if err != nil {
		return metric.MarkError(out, err)
	}
	resp, err := httpclient.Do(ctx, p.client, httpclient.Request{
		Method: http.MethodPost,
		URL:    endpoint,
		Header: map[string]string{
			"Content-Type": "application/json; charset=utf-8",
			"Accept":       "application/json; charset=utf-8",
		},
		Body:    payload,
		Timeout: queryTimeout,
	})
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("skywalking: %w", err))
	}
	data, err := queryData(resp.Body, base.Host)
	if err != nil {
		return metric.MarkError(out, err)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("skywalking: recording the result: %v", err))
	}
	out.Value = string(raw)
	return p.judge(out, data, m)
}

// interval is the metric's query window, defaultInterval when unset.
func interval(sw *v1alpha1.SkyWalkingMetric) (time.Duration, error) {
	if sw.Interval == "" {
		return defaultInterval, nil
	}
	d, err := sw.Interval.Duration()
	if err != nil {
		return 0, fmt.Errorf("skywalking: interval %q: %v", sw.Interval, err)
	}
	return d, nil
}

// requestBody is the GraphQL body running query over the window ending now.
func (p *Provider) requestBody(query string, window time.Duration) ([]byte, error) {
	end := p.now()
	payload, err := json.Marshal(graphQLRequest{
		Query: query,
		Variables: map[string]any{"duration": duration{
			Start: end.Add(-window).Format(durationLayout),
			End:   end.Format(durationLayout),
			Step:  "MINUTE",
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("skywalking: building the request: %v", err)
	}
	return payload, nil
}

// queryData is the "data" object of the GraphQL answer; GraphQL errors and
// an answer without data are errors.
func queryData(body []byte, host string) (any, error) {
	var r graphQLResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("skywalking: the answer of %s is not JSON: %v", host, err)
	}
	if len(r.Errors) > 0 {
		msgs := make([]string, len(r.Errors))
		for i, e := range r.Errors {
			msgs[i] = e.Message
		}
		return nil, fmt.Errorf("skywalking: the query failed: %s", strings.Join(msgs, "; "))
	}
	if r.Data == nil {
		return nil, errors.New("skywalking: no results returned from SkyWalking query")
	}
	return r.Data, nil
}

// judge evaluates the metric's conditions against the query's data and sets
// out's phase.
func (p *Provider) judge(out v1alpha1.Measurement, data any, m v1alpha1.Metric) v1alpha1.Measurement {
	if p.evaluate == nil {
		return metric.MarkError(out, errors.New("skywalking: no condition evaluator configured"))
	}
	phase, err := p.evaluate(data, m)
	if err != nil {
		return metric.MarkError(out, err)
	}
	out.Phase = phase
	return out
}

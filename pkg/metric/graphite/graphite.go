// Package graphite measures a metric with a Graphite render API query.
package graphite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
)

// ProviderType is the provider's name in metrics and events.
const ProviderType = "Graphite"

// requestTimeout bounds a render request.
const requestTimeout = 10 * time.Second

// Provider queries Graphite. It is safe for concurrent use.
type Provider struct {
	client   *http.Client
	evaluate metric.EvaluateFunc
}

var _ metric.Provider = (*Provider)(nil)

// New returns a Graphite provider: client sends the requests and evaluate
// turns the datapoints into a phase (pass metric.Evaluate); a nil client is
// httpclient.Default(). Graphite needs no credentials.
func New(client *http.Client, evaluate metric.EvaluateFunc) *Provider {
	if client == nil {
		client = httpclient.Default()
	}
	return &Provider{client: client, evaluate: evaluate}
}

// Type returns "Graphite".
func (p *Provider) Type() string { return ProviderType }

// Metadata returns nothing for Graphite.
func (p *Provider) Metadata(v1alpha1.Metric) map[string]string { return nil }

// Resume returns the measurement unchanged: Graphite measurements finish in Run.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// Terminate returns the measurement unchanged: Graphite measurements finish in Run.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// GarbageCollect has nothing to remove.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// Run renders the metric's query and judges the datapoints of the first
// target returned. The query is the parameter list of /render, such as
// "target=sumSeries(a.b.*)&from=-5min", written over several lines if need
// be: every whitespace character is dropped before it is sent. Conditions
// see the non-null values as []float64, oldest first.
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	g := m.Provider.Graphite
	if g == nil {
		return metric.MarkError(out, fmt.Errorf("graphite: metric %q has no graphite provider", m.Name))
	}
	u, err := renderURL(g.Address, g.Query)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("graphite: %v", err))
	}
	resp, err := httpclient.Do(ctx, p.client, httpclient.Request{
		URL:     u.String(),
		Header:  map[string]string{"Accept": "application/json"},
		Timeout: requestTimeout,
	})
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("graphite: %w", err))
	}
	values, shown, err := parseRender(resp.Body)
	if err != nil {
		return metric.MarkError(out, err)
	}
	out.Value = shown
	if p.evaluate == nil {
		return metric.MarkError(out, errors.New("graphite: no condition evaluator configured"))
	}
	phase, err := p.evaluate(values, m)
	if err != nil {
		return metric.MarkError(out, err)
	}
	out.Phase = phase
	return out
}

// parseRender reads a render answer: the non-null values of the first
// target, and their text for the measurement's value (metric.FormatList). No target, or a
// first target without datapoints, is an error.
func parseRender(body []byte) ([]float64, string, error) {
	var targets []target
	if err := json.Unmarshal(body, &targets); err != nil {
		return nil, "", fmt.Errorf("graphite: the answer is not a render result: %v", err)
	}
	if len(targets) == 0 || len(targets[0].Datapoints) == 0 {
		return nil, "", errors.New("graphite: no values found")
	}
	values := make([]float64, 0, len(targets[0].Datapoints))
	for _, dp := range targets[0].Datapoints {
		if dp.value != nil {
			values = append(values, *dp.value)
		}
	}
	shown := metric.FormatList(len(values), func(i int) string { return strconv.FormatFloat(values[i], 'f', 6, 64) })
	return values, shown, nil
}

// renderURL is <address>/render with the query's parameters and
// format=json. The address may carry a path prefix, which is kept.
func renderURL(address, query string) (*url.URL, error) {
	if address == "" {
		return nil, errors.New("the metric has no address")
	}
	base, err := url.Parse(address)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("address %q is not a valid URL", address)
	}
	compact := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, query)
	params, err := url.ParseQuery(compact)
	if err != nil {
		return nil, fmt.Errorf("query %q is not a list of render parameters: %v", compact, err)
	}
	params.Set("format", "json")
	u := *base
	u.Path = path.Join("/", base.Path, "render")
	u.RawPath = ""
	u.RawQuery = params.Encode()
	u.Fragment = ""
	return &u, nil
}

// target is one series of a render answer.
type target struct {
	Target     string      `json:"target"`
	Datapoints []datapoint `json:"datapoints"`
}

// datapoint is a [value, timestamp] pair. Graphite writes a missing value
// as null; some servers write numbers as strings.
type datapoint struct {
	value     *float64
	timestamp int64
}

// UnmarshalJSON reads a [value, timestamp] pair.
func (d *datapoint) UnmarshalJSON(raw []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil {
		return err
	}
	if len(pair) != 2 {
		return fmt.Errorf("datapoint %s is not a [value, timestamp] pair", raw)
	}
	v, err := number(pair[0])
	if err != nil {
		return fmt.Errorf("datapoint value %s: %v", pair[0], err)
	}
	d.value = v
	ts, err := number(pair[1])
	if err != nil {
		return fmt.Errorf("datapoint timestamp %s: %v", pair[1], err)
	}
	if ts != nil {
		d.timestamp = int64(*ts)
	}
	return nil
}

// number reads a JSON number, a numeric string or null.
func number(raw json.RawMessage) (*float64, error) {
	s := strings.TrimSpace(string(raw))
	if s == "null" {
		return nil, nil
	}
	if unquoted, err := strconv.Unquote(s); err == nil {
		s = unquoted
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, errors.New("not a number")
	}
	return &f, nil
}

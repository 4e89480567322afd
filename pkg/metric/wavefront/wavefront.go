// Package wavefront measures a metric with a Wavefront (VMware Aria
// Operations for Applications) chart query, taking the point of each series
// closest to the time of the measurement.
package wavefront

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
)

// ProviderType is the provider's name in metrics and events.
const ProviderType = "Wavefront"

const (
	// TokensSecretName is the Secret, in the controller's namespace, that
	// maps each Wavefront address to its API token.
	TokensSecretName = "wavefront-api-tokens"

	chartPath      = "/api/v2/chart/api"
	requestTimeout = 30 * time.Second
)

// Provider queries Wavefront. It is safe for concurrent use.
type Provider struct {
	client              *http.Client
	secrets             metric.SecretGetter
	controllerNamespace string
	evaluate            metric.EvaluateFunc
	now                 func() time.Time
}

var _ metric.Provider = (*Provider)(nil)

// New returns a Wavefront provider. client sends the requests (always over
// HTTPS, to the metric's address), secrets reads the tokens Secret from
// controllerNamespace, and evaluate turns the values into a phase (pass
// metric.Evaluate). A nil client is httpclient.Default().
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
	}
}

// Type returns "Wavefront".
func (p *Provider) Type() string { return ProviderType }

// Metadata returns nothing for Wavefront.
func (p *Provider) Metadata(v1alpha1.Metric) map[string]string { return nil }

// Resume returns the measurement unchanged: Wavefront measurements finish in Run.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// Terminate returns the measurement unchanged: Wavefront measurements finish in Run.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// GarbageCollect has nothing to remove.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// Run sends the query and judges the values it returns: one series gives a
// float64, several a []float64, in the order Wavefront listed them.
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	wf := m.Provider.Wavefront
	if wf == nil {
		return metric.MarkError(out, fmt.Errorf("wavefront: metric %q has no wavefront provider", m.Name))
	}
	if wf.Address == "" {
		return metric.MarkError(out, errors.New("wavefront: the metric has no address"))
	}
	token, err := p.token(ctx, wf.Address)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("wavefront: %v", err))
	}
	out = p.measure(ctx, m, wf, token)
	return metric.RedactMeasurement(out, []string{token})
}

// token reads the API token for address from the tokens Secret.
func (p *Provider) token(ctx context.Context, address string) (string, error) {
	ns := p.controllerNamespace
	if p.secrets == nil {
		return "", fmt.Errorf("cannot read Secret %s/%s: no Secret reader configured", ns, TokensSecretName)
	}
	s, err := p.secrets.GetSecret(ctx, ns, TokensSecretName)
	if err != nil {
		return "", fmt.Errorf("cannot read Secret %s/%s with the API tokens: %v", ns, TokensSecretName, err)
	}
	token := string(s.Data[address])
	if token == "" {
		return "", fmt.Errorf("Secret %s/%s has no token for %s", ns, TokensSecretName, address)
	}
	return token, nil
}

// chartResponse is the part of a chart query answer that is read.
type chartResponse struct {
	TimeSeries []series `json:"timeseries"`
	Warnings   string   `json:"warnings"`
}

// series is one time series; each point is [epoch seconds, value].
type series struct {
	Label string       `json:"label"`
	Host  string       `json:"host"`
	Data  [][]*float64 `json:"data"`
}

// measure sends the query and turns the series into a measurement. The
// window is a single instant, the time of the measurement, with series
// outside it allowed and one point per series, so each series yields the
// point nearest that instant.
func (p *Provider) measure(ctx context.Context, m v1alpha1.Metric, wf *v1alpha1.WavefrontMetric, token string) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	at := p.now()
	resp, err := httpclient.Do(ctx, p.client, httpclient.Request{
		URL:     chartURL(wf, at).String(),
		Header:  map[string]string{"Authorization": "Bearer " + token, "Accept": "application/json"},
		Timeout: requestTimeout,
		Accept:  func(code int) bool { return code >= 200 && code <= 204 },
	})
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("wavefront: %w", err))
	}
	pts, warnings, err := parseChart(resp.Body, at.Unix())
	if warnings != "" {
		out.Metadata = map[string]string{"warnings": warnings}
	}
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("wavefront: %s: %v", wf.Address, err))
	}
	typed := pts.record(&out)
	return p.judge(out, typed, m)
}

// parseChart reads a chart answer: the point of each series nearest at
// (epoch seconds), and the answer's warnings. An answer without series is
// an error.
func parseChart(body []byte, at int64) (points, string, error) {
	var r chartResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return points{}, "", fmt.Errorf("the answer is not JSON: %v", err)
	}
	if len(r.TimeSeries) == 0 {
		return points{}, r.Warnings, errors.New("no time series found in the answer")
	}
	pts, err := pointsAt(r.TimeSeries, at)
	return pts, r.Warnings, err
}

// chartURL is the chart query for the single instant at, one point per
// series, series outside the window allowed.
func chartURL(wf *v1alpha1.WavefrontMetric, at time.Time) *url.URL {
	millis := strconv.FormatInt(at.Unix()*1000, 10)
	u := &url.URL{Scheme: "https", Host: wf.Address, Path: chartPath}
	q := url.Values{}
	q.Set("q", wf.Query)
	q.Set("s", millis)
	q.Set("e", millis)
	q.Set("g", "s")
	q.Set("p", "1")
	q.Set("i", "true")
	q.Set("strict", "false")
	u.RawQuery = q.Encode()
	return u
}

// points are the point taken from each series: its value, its time and its
// distance from the measurement's time, in seconds.
type points struct {
	values        []float64
	times, drifts []int64
}

// pointsAt takes the point nearest at (epoch seconds) from every series, in
// order.
func pointsAt(all []series, at int64) (points, error) {
	pts := points{values: make([]float64, 0, len(all))}
	for _, s := range all {
		v, ts, drift, err := nearest(s, at)
		if err != nil {
			return points{}, err
		}
		pts.values = append(pts.values, v)
		pts.times = append(pts.times, ts)
		pts.drifts = append(pts.drifts, drift)
	}
	return pts, nil
}

// record writes the points into out's value and its "timestamps" and
// "drift" metadata (lists as metric.FormatList writes them), and returns
// what the conditions see: a float64 for one series, a []float64 for
// several.
func (pts points) record(out *v1alpha1.Measurement) any {
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	value := func(i int) string { return fmt.Sprintf("%.2f", pts.values[i]) }
	stamp := func(i int) string { return strconv.FormatInt(pts.times[i], 10) }
	drift := func(i int) string { return strconv.FormatInt(pts.drifts[i], 10) }
	if len(pts.values) == 1 {
		out.Value, out.Metadata["timestamps"], out.Metadata["drift"] = value(0), stamp(0), drift(0)
		return pts.values[0]
	}
	n := len(pts.values)
	out.Value = metric.FormatList(n, value)
	out.Metadata["timestamps"] = metric.FormatList(n, stamp)
	out.Metadata["drift"] = metric.FormatList(n, drift)
	return pts.values
}

// judge evaluates the metric's conditions against the values and sets out's
// phase.
func (p *Provider) judge(out v1alpha1.Measurement, typed any, m v1alpha1.Metric) v1alpha1.Measurement {
	if p.evaluate == nil {
		return metric.MarkError(out, errors.New("wavefront: no condition evaluator configured"))
	}
	phase, err := p.evaluate(typed, m)
	if err != nil {
		return metric.MarkError(out, err)
	}
	out.Phase = phase
	return out
}

// nearest returns the value of the point of s closest to at (epoch
// seconds), that point's time and its distance from at in seconds (negative
// when the point is older). A series without points has no value to offer
// and is an error rather than a zero; so is a malformed point. A point
// whose value is null is skipped.
func nearest(s series, at int64) (value float64, ts, drift int64, err error) {
	best := math.Inf(1)
	found := false
	for _, point := range s.Data {
		if len(point) < 2 || point[0] == nil {
			return 0, 0, 0, fmt.Errorf("series %q has a malformed point", s.Label)
		}
		if point[1] == nil {
			continue
		}
		d := *point[0] - float64(at)
		if math.Abs(d) < math.Abs(best) {
			value, ts, best, found = *point[1], int64(*point[0]), d, true
		}
	}
	if !found {
		return 0, 0, 0, fmt.Errorf("series %q has no data points", s.Label)
	}
	return value, ts, int64(best), nil
}

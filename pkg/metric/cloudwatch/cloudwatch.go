// Package cloudwatch measures a metric with an Amazon CloudWatch
// GetMetricData call, made over the service's JSON protocol and signed with
// SigV4 by package sigv4, without the AWS SDK.
package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
	"github.com/serin-dev/serin/pkg/metric/measure"
	"github.com/serin-dev/serin/pkg/sigv4"
)

// ProviderType is the provider's name in metrics and events.
const ProviderType = "CloudWatch"

const (
	// target names the operation in CloudWatch's JSON protocol.
	target      = "GraniteServiceVersion20100801.GetMetricData"
	contentType = "application/x-amz-json-1.0"
	// signingName is the service name CloudWatch requests are signed for.
	signingName     = "monitoring"
	defaultInterval = 5 * time.Minute
	requestTimeout  = 30 * time.Second
)

// credentialSource hands out the credentials requests are signed with.
type credentialSource interface {
	Retrieve(ctx context.Context) (sigv4.Credentials, error)
}

// Provider calls GetMetricData. It is safe for concurrent use.
type Provider struct {
	client   *http.Client
	evaluate metric.EvaluateFunc
	creds    credentialSource
	env      sigv4.Env
	now      func() time.Time
}

var _ metric.Provider = (*Provider)(nil)

// New returns a CloudWatch provider. client sends the GetMetricData
// requests and evaluate turns the results into a phase (pass
// metric.Evaluate). The region comes from AWS_REGION or AWS_DEFAULT_REGION;
// the endpoint is https://monitoring.<region>.amazonaws.com unless
// AWS_ENDPOINT_URL_CLOUDWATCH or AWS_ENDPOINT_URL overrides it; the
// credentials are found as the AWS SDKs' default chain finds them, minus
// the shared config files (see sigv4.Chain). A nil client is
// httpclient.Default().
func New(client *http.Client, evaluate metric.EvaluateFunc) *Provider {
	if client == nil {
		client = httpclient.Default()
	}
	return &Provider{
		client:   client,
		evaluate: evaluate,
		creds:    &sigv4.Chain{},
		env:      os.LookupEnv,
		now:      time.Now,
	}
}

// Type returns "CloudWatch".
func (p *Provider) Type() string { return ProviderType }

// Metadata returns nothing for CloudWatch.
func (p *Provider) Metadata(v1alpha1.Metric) map[string]string { return nil }

// Resume returns the measurement unchanged: CloudWatch measurements finish in Run.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// Terminate returns the measurement unchanged: CloudWatch measurements finish in Run.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// GarbageCollect has nothing to remove.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// MetricDataResult is one series of a GetMetricData answer, with the field
// names and types of the AWS SDK's MetricDataResult, so that conditions
// written for Argo Rollouts read the same: `result[0].Values`,
// `len(result[0].Timestamps)`. Values and Timestamps are newest first,
// CloudWatch's default order.
type MetricDataResult struct {
	Id         *string
	Label      *string
	Messages   []MessageData
	StatusCode string
	Timestamps []time.Time
	Values     []float64
}

// MessageData is a message CloudWatch attached to an answer or a series.
type MessageData struct {
	Code  *string
	Value *string
}

// Run fetches the metric's queries over the interval (default 5m) ending
// now and judges the results. Conditions see []MetricDataResult; the value
// records each series' values, e.g. "[[0.01 0.02] [3]]".
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	cw := m.Provider.CloudWatch
	if cw == nil {
		return metric.MarkError(out, fmt.Errorf("cloudwatch: metric %q has no cloudWatch provider", m.Name))
	}
	window := defaultInterval
	if cw.Interval != "" {
		d, err := cw.Interval.Duration()
		if err != nil {
			return metric.MarkError(out, fmt.Errorf("cloudwatch: interval %q: %v", cw.Interval, err))
		}
		window = d
	}
	region := sigv4.Region(p.env)
	if region == "" {
		return metric.MarkError(out, fmt.Errorf("cloudwatch: no AWS region: set %s or %s", sigv4.EnvRegion, sigv4.EnvDefaultRegion))
	}
	creds, err := p.creds.Retrieve(ctx)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("cloudwatch: %v", err))
	}
	out = p.measure(ctx, m, cw, window, region, creds)
	return metric.RedactMeasurement(out, []string{creds.SecretAccessKey, creds.SessionToken})
}

// getMetricDataInput is the JSON body of GetMetricData. Times are epoch
// seconds, as the JSON protocol writes timestamps.
type getMetricDataInput struct {
	MetricDataQueries []metricDataQuery `json:"MetricDataQueries"`
	StartTime         int64             `json:"StartTime"`
	EndTime           int64             `json:"EndTime"`
}

type metricDataQuery struct {
	Id         string      `json:"Id"`
	Expression *string     `json:"Expression,omitempty"`
	Label      *string     `json:"Label,omitempty"`
	MetricStat *metricStat `json:"MetricStat,omitempty"`
	Period     *int32      `json:"Period,omitempty"`
	ReturnData *bool       `json:"ReturnData,omitempty"`
}

type metricStat struct {
	Metric metricID `json:"Metric"`
	Period int32    `json:"Period"`
	Stat   string   `json:"Stat"`
	Unit   string   `json:"Unit,omitempty"`
}

type metricID struct {
	Namespace  *string     `json:"Namespace,omitempty"`
	MetricName string      `json:"MetricName"`
	Dimensions []dimension `json:"Dimensions,omitempty"`
}

type dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// queries converts the metric's queries to the API's shapes. A period
// that is not a number (an unresolved argument, say) is sent as 0 and left
// for CloudWatch to refuse.
func queries(in []v1alpha1.CloudWatchMetricDataQuery) []metricDataQuery {
	out := make([]metricDataQuery, len(in))
	for i, q := range in {
		mq := metricDataQuery{Id: q.Id, Expression: q.Expression, Label: q.Label, ReturnData: q.ReturnData}
		if q.Period != nil {
			period := int32(q.Period.IntValue())
			mq.Period = &period
		}
		if s := q.MetricStat; s != nil {
			mq.MetricStat = &metricStat{
				Metric: metricID{Namespace: s.Metric.Namespace, MetricName: s.Metric.MetricName},
				Period: int32(s.Period.IntValue()),
				Stat:   s.Stat,
				Unit:   s.Unit,
			}
			for _, d := range s.Metric.Dimensions {
				mq.MetricStat.Metric.Dimensions = append(mq.MetricStat.Metric.Dimensions, dimension(d))
			}
		}
		out[i] = mq
	}
	return out
}

// getMetricDataOutput is the part of the answer that is read.
type getMetricDataOutput struct {
	MetricDataResults []wireResult  `json:"MetricDataResults"`
	Messages          []wireMessage `json:"Messages"`
	NextToken         *string       `json:"NextToken"`
}

type wireResult struct {
	Id         *string       `json:"Id"`
	Label      *string       `json:"Label"`
	Messages   []wireMessage `json:"Messages"`
	StatusCode string        `json:"StatusCode"`
	Timestamps []timestamp   `json:"Timestamps"`
	Values     []float64     `json:"Values"`
}

type wireMessage struct {
	Code  *string `json:"Code"`
	Value *string `json:"Value"`
}

// timestamp reads the JSON protocol's epoch seconds (fractions allowed)
// and, to be lenient, an RFC 3339 string.
type timestamp time.Time

// UnmarshalJSON reads epoch seconds or an RFC 3339 string.
func (t *timestamp) UnmarshalJSON(raw []byte) error {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		parsed, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("timestamp %q: %v", s, err)
		}
		*t = timestamp(parsed.UTC())
		return nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is neither epoch seconds nor a date", raw)
	}
	sec, frac := math.Modf(f)
	*t = timestamp(time.Unix(int64(sec), int64(frac*1e9)).UTC())
	return nil
}

// measure calls GetMetricData and turns its answer into a measurement.
func (p *Provider) measure(ctx context.Context, m v1alpha1.Metric, cw *v1alpha1.CloudWatchMetric, window time.Duration, region string, creds sigv4.Credentials) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	payload, err := p.requestBody(cw, window)
	if err != nil {
		return metric.MarkError(out, err)
	}
	endpoint := sigv4.Endpoint(p.env, "CloudWatch", signingName, region)
	resp, err := httpclient.Do(ctx, p.client, httpclient.Request{
		Method:  http.MethodPost,
		URL:     endpoint + "/",
		Header:  map[string]string{"Content-Type": contentType, "X-Amz-Target": target, "Accept": "application/json"},
		Body:    payload,
		Timeout: requestTimeout,
		Prepare: func(req *http.Request) error { return sigv4.Sign(req, payload, creds, region, signingName, p.now()) },
	})
	var status *httpclient.StatusError
	if errors.As(err, &status) {
		return metric.MarkError(out, fmt.Errorf("cloudwatch: GetMetricData answered %d: %s", status.StatusCode, apiError(status.Header, status.Body)))
	}
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("cloudwatch: GetMetricData: %w", err))
	}
	results, values, messages, err := parseOutput(resp.Body)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("cloudwatch: the GetMetricData answer cannot be read: %v", err))
	}
	if messages != "" {
		out.Metadata = map[string]string{"messages": messages}
	}
	out.Value = fmt.Sprintf("%+v", values)
	return p.judge(out, results, m)
}

// parseOutput reads a GetMetricData answer: the series conditions see,
// each series' values for the measurement's value, and the answer's
// messages ("" when it has none).
func parseOutput(body []byte) ([]MetricDataResult, [][]float64, string, error) {
	var r getMetricDataOutput
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, nil, "", err
	}
	messages := ""
	if len(r.Messages) > 0 {
		messages = formatMessages(r.Messages)
	}
	results, values := convertResults(r.MetricDataResults)
	return results, values, messages, nil
}

// requestBody is the GetMetricData JSON body for the window ending now.
func (p *Provider) requestBody(cw *v1alpha1.CloudWatchMetric, window time.Duration) ([]byte, error) {
	end := p.now()
	payload, err := json.Marshal(getMetricDataInput{
		MetricDataQueries: queries(cw.MetricDataQueries),
		StartTime:         end.Add(-window).Unix(),
		EndTime:           end.Unix(),
	})
	if err != nil {
		return nil, fmt.Errorf("cloudwatch: building the request: %v", err)
	}
	return payload, nil
}

// convertResults turns the wire series into the MetricDataResults conditions
// see, and lists each series' values for the measurement's value.
func convertResults(wire []wireResult) ([]MetricDataResult, [][]float64) {
	results := make([]MetricDataResult, len(wire))
	values := make([][]float64, len(wire))
	for i, w := range wire {
		res := MetricDataResult{Id: w.Id, Label: w.Label, StatusCode: w.StatusCode, Values: w.Values}
		if res.Values == nil {
			res.Values = []float64{}
		}
		res.Timestamps = make([]time.Time, len(w.Timestamps))
		for j, ts := range w.Timestamps {
			res.Timestamps[j] = time.Time(ts)
		}
		for _, msg := range w.Messages {
			res.Messages = append(res.Messages, MessageData(msg))
		}
		results[i] = res
		values[i] = res.Values
	}
	return results, values
}

// judge evaluates the metric's conditions against results and sets out's
// phase.
func (p *Provider) judge(out v1alpha1.Measurement, results []MetricDataResult, m v1alpha1.Metric) v1alpha1.Measurement {
	if p.evaluate == nil {
		return metric.MarkError(out, errors.New("cloudwatch: no condition evaluator configured"))
	}
	phase, err := p.evaluate(results, m)
	if err != nil {
		return metric.MarkError(out, err)
	}
	out.Phase = phase
	return out
}

// formatMessages writes messages as "[{Code:X Value:Y} ...]".
func formatMessages(msgs []wireMessage) string {
	type shown struct{ Code, Value string }
	list := make([]shown, len(msgs))
	for i, m := range msgs {
		if m.Code != nil {
			list[i].Code = *m.Code
		}
		if m.Value != nil {
			list[i].Value = *m.Value
		}
	}
	return fmt.Sprintf("%+v", list)
}

// apiError is the code and message of an AWS JSON error answer, or the
// start of the body when it is not one.
func apiError(h http.Header, body []byte) string {
	var e struct {
		Type         string `json:"__type"`
		Message      string `json:"message"`
		MessageUpper string `json:"Message"`
	}
	code := ""
	if q := h.Get("X-Amzn-Query-Error"); q != "" {
		code, _, _ = strings.Cut(q, ";")
	}
	if json.Unmarshal(body, &e) == nil && (e.Type != "" || e.Message != "" || e.MessageUpper != "") {
		if code == "" {
			code = e.Type
			if i := strings.LastIndex(code, "#"); i >= 0 {
				code = code[i+1:]
			}
			code, _, _ = strings.Cut(code, ":")
		}
		msg := e.Message
		if msg == "" {
			msg = e.MessageUpper
		}
		return strings.TrimSpace(code + ": " + msg)
	}
	return measure.Snippet(body)
}

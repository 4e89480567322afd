// Package kayenta measures a metric with a Kayenta canary judgement. The
// judgement runs asynchronously: Run starts it and Resume polls it until
// Kayenta has a score.
package kayenta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
)

// ProviderType is the provider's name in metrics and events.
const ProviderType = "Kayenta"

const (
	// ExecutionIDKey is the measurement metadata key holding the id of the
	// canary execution a Running measurement waits for.
	ExecutionIDKey = "canaryExecutionId"

	// resumeDelay is how long to wait before asking Kayenta again.
	resumeDelay    = 15 * time.Second
	requestTimeout = 15 * time.Second
)

// Provider starts and polls Kayenta canary judgements. It is safe for
// concurrent use.
type Provider struct {
	client *http.Client
	now    func() time.Time
}

var _ metric.Provider = (*Provider)(nil)

// New returns a Kayenta provider sending its requests with client. Kayenta
// judges the canary itself, so the provider needs no condition evaluator:
// the score is compared with the metric's thresholds. A nil client is
// httpclient.Default().
func New(client *http.Client) *Provider {
	if client == nil {
		client = httpclient.Default()
	}
	return &Provider{client: client, now: time.Now}
}

// Type returns "Kayenta".
func (p *Provider) Type() string { return ProviderType }

// Metadata returns nothing for Kayenta.
func (p *Provider) Metadata(v1alpha1.Metric) map[string]string { return nil }

// GarbageCollect has nothing to remove: executions stay in Kayenta's store.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// canaryConfig is one entry of GET /canaryConfig.
type canaryConfig struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// executionRequest is the body of POST /canary/{configId}.
type executionRequest struct {
	Scopes     map[string]scopePair `json:"scopes"`
	Thresholds thresholds           `json:"thresholds"`
}

type scopePair struct {
	ControlScope    scope `json:"controlScope"`
	ExperimentScope scope `json:"experimentScope"`
}

type scope struct {
	Scope    string `json:"scope"`
	Location string `json:"location"`
	Step     int64  `json:"step"`
	Start    string `json:"start,omitempty"`
	End      string `json:"end,omitempty"`
}

type thresholds struct {
	Pass     int64 `json:"pass"`
	Marginal int64 `json:"marginal"`
}

// Run looks up the canary configuration by name and starts a judgement of
// the metric's scopes with it. The measurement comes back Running, with the
// execution id in its metadata and a time to check on it. Scopes without a
// start and end cover the metric's interval up to now, or, with lookback,
// the time since the run started.
func (p *Provider) Run(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	k := m.Provider.Kayenta
	if k == nil {
		return errored(out, "kayenta: metric %q has no kayenta provider", m.Name)
	}
	address, err := baseAddress(k.Address)
	if err != nil {
		return errored(out, "kayenta: %v", err)
	}
	now := p.now()
	body := executionRequest{
		Scopes:     make(map[string]scopePair, len(k.Scopes)),
		Thresholds: thresholds{Pass: k.Threshold.Pass, Marginal: k.Threshold.Marginal},
	}
	for _, s := range k.Scopes {
		pair, err := scopeRequest(s, run, m.Interval, k.Lookback, now)
		if err != nil {
			return errored(out, "kayenta: scope %q: %v", s.Name, err)
		}
		body.Scopes[s.Name] = pair
	}
	configID, err := p.configID(ctx, address, k)
	if err != nil {
		return errored(out, "kayenta: %v", err)
	}
	id, err := p.start(ctx, address, configID, k, body)
	if err != nil {
		return errored(out, "kayenta: %v", err)
	}
	out.Phase = v1alpha1.AnalysisPhaseRunning
	out.Metadata = map[string]string{ExecutionIDKey: id}
	resume := metav1.NewTime(now.Add(resumeDelay))
	out.ResumeAt = &resume
	return out
}

// Resume asks Kayenta about the execution. While it is not complete the
// measurement stays Running with a new time to check; once it is, the
// score (rounded down) is the value and decides the phase: at least
// threshold.pass is Successful, at least threshold.marginal Inconclusive,
// below that Failed.
func (p *Provider) Resume(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	out := in
	k := m.Provider.Kayenta
	if k == nil {
		return errored(out, "kayenta: metric %q has no kayenta provider", m.Name)
	}
	id := in.Metadata[ExecutionIDKey]
	if id == "" {
		return errored(out, "kayenta: the measurement has no %s to check on", ExecutionIDKey)
	}
	address, err := baseAddress(k.Address)
	if err != nil {
		return errored(out, "kayenta: %v", err)
	}
	body, err := p.do(ctx, http.MethodGet, address+"/canary/"+url.PathEscape(id), nil, nil)
	if err != nil {
		return errored(out, "kayenta: %v", err)
	}
	complete, score, err := executionStatus(body)
	if err != nil {
		return errored(out, "kayenta: execution %s: %v", id, err)
	}
	if !complete {
		resume := metav1.NewTime(p.now().Add(resumeDelay))
		out.Phase = v1alpha1.AnalysisPhaseRunning
		out.ResumeAt = &resume
		return out
	}
	out.Value = strconv.FormatInt(score, 10)
	out.Phase = judge(score, k.Threshold)
	out.ResumeAt = nil
	return out
}

// executionStatus reads the status of an execution: whether it is complete
// and, once it is, its score rounded down. A status that does not say
// whether it is complete, or a complete one without a score, is an error.
func executionStatus(body []byte) (bool, int64, error) {
	var status struct {
		Complete *bool `json:"complete"`
		Result   *struct {
			JudgeResult *struct {
				Score *struct {
					Score *float64 `json:"score"`
				} `json:"score"`
			} `json:"judgeResult"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &status); err != nil {
		return false, 0, fmt.Errorf("the status is not JSON: %v", err)
	}
	if status.Complete == nil {
		return false, 0, errors.New("the status does not say whether it is complete")
	}
	if !*status.Complete {
		return false, 0, nil
	}
	r := status.Result
	if r == nil || r.JudgeResult == nil || r.JudgeResult.Score == nil || r.JudgeResult.Score.Score == nil {
		return true, 0, errors.New("completed without a score")
	}
	return true, int64(*r.JudgeResult.Score.Score), nil
}

// Terminate gives up on a running judgement. Kayenta has nothing to cancel
// it with, so the execution is left to finish on its own and the
// measurement ends Inconclusive, as a terminated Job measurement does.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	if in.Phase != v1alpha1.AnalysisPhaseRunning && in.Phase != v1alpha1.AnalysisPhasePending && in.Phase != "" {
		return in
	}
	in.Phase = v1alpha1.AnalysisPhaseInconclusive
	in.Message = "Metric Terminated"
	in.ResumeAt = nil
	return in
}

// judge maps a score onto a phase with the metric's thresholds.
func judge(score int64, t v1alpha1.KayentaThreshold) v1alpha1.AnalysisPhase {
	switch {
	case score >= t.Pass:
		return v1alpha1.AnalysisPhaseSuccessful
	case score >= t.Marginal:
		return v1alpha1.AnalysisPhaseInconclusive
	default:
		return v1alpha1.AnalysisPhaseFailed
	}
}

// scopeRequest fills in a scope pair's window. Start and end must be given
// for both the control and the experiment or for neither; a missing start
// is the run's start with lookback, otherwise now minus the metric's
// interval, and a missing end is now.
func scopeRequest(s v1alpha1.KayentaScope, run *v1alpha1.AnalysisRun, interval v1alpha1.DurationString, lookback bool, now time.Time) (scopePair, error) {
	c, e := s.ControlScope, s.ExperimentScope
	if (c.Start == "") != (e.Start == "") {
		return scopePair{}, errors.New("controlScope.start and experimentScope.start must both be set or both be empty")
	}
	if (c.End == "") != (e.End == "") {
		return scopePair{}, errors.New("controlScope.end and experimentScope.end must both be set or both be empty")
	}
	if c.Start == "" {
		var start time.Time
		if lookback {
			if run == nil || run.Status.StartedAt == nil {
				return scopePair{}, errors.New("lookback needs the run's start time, which is not set yet")
			}
			start = run.Status.StartedAt.Time
		} else {
			d, err := interval.Duration()
			if err != nil {
				return scopePair{}, fmt.Errorf("without start times the metric's interval sets the window, and %q is not a duration", interval)
			}
			start = now.Add(-d)
		}
		c.Start = start.UTC().Format(time.RFC3339)
		e.Start = c.Start
	}
	if c.End == "" {
		c.End = now.UTC().Format(time.RFC3339)
		e.End = c.End
	}
	return scopePair{ControlScope: toScope(c), ExperimentScope: toScope(e)}, nil
}

func toScope(d v1alpha1.ScopeDetail) scope {
	return scope{Scope: d.Scope, Location: d.Region, Step: d.Step, Start: d.Start, End: d.End}
}

// configID finds the id of the canary configuration the metric names.
func (p *Provider) configID(ctx context.Context, address string, k *v1alpha1.KayentaMetric) (string, error) {
	q := url.Values{}
	q.Set("application", k.Application)
	q.Set("configurationAccountName", k.ConfigurationAccountName)
	body, err := p.do(ctx, http.MethodGet, address+"/canaryConfig?"+q.Encode(), nil, nil)
	if err != nil {
		return "", err
	}
	var configs []canaryConfig
	if err := json.Unmarshal(body, &configs); err != nil {
		return "", fmt.Errorf("the list of canary configurations is not JSON: %v", err)
	}
	for _, c := range configs {
		if c.Name == k.CanaryConfigName && c.ID != "" {
			return c.ID, nil
		}
	}
	return "", fmt.Errorf("canary config %q not found for application %q", k.CanaryConfigName, k.Application)
}

// start posts the judgement request and returns the execution id.
func (p *Provider) start(ctx context.Context, address, configID string, k *v1alpha1.KayentaMetric, req executionRequest) (string, error) {
	payload, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	q.Set("application", k.Application)
	q.Set("metricsAccountName", k.MetricsAccountName)
	q.Set("configurationAccountName", k.ConfigurationAccountName)
	q.Set("storageAccountName", k.StorageAccountName)
	target := address + "/canary/" + url.PathEscape(configID) + "?" + q.Encode()
	body, err := p.do(ctx, http.MethodPost, target, payload, map[string]string{"Content-Type": "application/json"})
	if err != nil {
		return "", err
	}
	var started struct {
		ID json.RawMessage `json:"canaryExecutionId"`
	}
	if err := json.Unmarshal(body, &started); err != nil {
		return "", fmt.Errorf("the answer to the judgement request is not JSON: %v", err)
	}
	var id string
	if json.Unmarshal(started.ID, &id) != nil || id == "" {
		return "", errors.New("the answer to the judgement request has no canaryExecutionId")
	}
	return id, nil
}

// do sends one request and returns the body of a 200 answer.
func (p *Provider) do(ctx context.Context, method, target string, payload []byte, headers map[string]string) ([]byte, error) {
	h := map[string]string{"Accept": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	resp, err := httpclient.Do(ctx, p.client, httpclient.Request{
		Method:  method,
		URL:     target,
		Header:  h,
		Body:    payload,
		Timeout: requestTimeout,
		Accept:  func(code int) bool { return code == http.StatusOK },
	})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// baseAddress checks the Kayenta address and drops a trailing slash.
func baseAddress(address string) (string, error) {
	u, err := url.Parse(address)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("address %q is not a valid URL", address)
	}
	return strings.TrimRight(address, "/"), nil
}

// errored is metric.MarkError with a formatted message.
func errored(in v1alpha1.Measurement, format string, args ...any) v1alpha1.Measurement {
	return metric.MarkError(in, fmt.Errorf(format, args...))
}

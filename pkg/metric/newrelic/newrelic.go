// Package newrelic measures a metric with an NRQL query, run through New
// Relic's NerdGraph GraphQL API.
package newrelic

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

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
)

// ProviderType is the provider's name in metrics and events.
const ProviderType = "NewRelic"

const (
	// DefaultProfile is the Secret, in the controller's namespace, read when
	// the metric names no profile.
	DefaultProfile = "newrelic"
	// Keys of the profile Secret. A base-url-rest key is accepted too but
	// not read: only NerdGraph is called.
	apiKeyKey        = "personal-api-key"
	accountIDKey     = "account-id"
	regionKey        = "region"
	nerdGraphURLKey  = "base-url-nerdgraph"
	defaultRegion    = "us"
	defaultTimeout   = 5 // seconds, NRQL's own timeout
	requestAllowance = 30 * time.Second

	// MetadataQuery is the metric result metadata key holding the NRQL
	// statement after argument substitution.
	MetadataQuery = "ResolvedNewRelicQuery"
)

// nerdGraphURLs are NerdGraph's addresses per New Relic region.
var nerdGraphURLs = map[string]string{
	"us":      "https://api.newrelic.com/graphql",
	"eu":      "https://api.eu.newrelic.com/graphql",
	"staging": "https://staging-api.newrelic.com/graphql",
}

// nrqlQuery asks NerdGraph for the rows of one NRQL statement.
const nrqlQuery = `query ($accountId: Int!, $query: Nrql!, $timeout: Seconds!) {
  actor {
    account(id: $accountId) {
      nrql(query: $query, timeout: $timeout) {
        results
      }
    }
  }
}`

// Provider runs NRQL queries. It is safe for concurrent use.
type Provider struct {
	client              *http.Client
	secrets             metric.SecretGetter
	controllerNamespace string
	evaluate            metric.EvaluateFunc
	userAgent           string
}

var _ metric.Provider = (*Provider)(nil)

// New returns a New Relic provider. client sends the requests, secrets
// reads the profile Secret from controllerNamespace, and evaluate turns the
// rows into a phase (pass metric.Evaluate). A nil client is
// httpclient.Default().
func New(client *http.Client, secrets metric.SecretGetter, controllerNamespace string, evaluate metric.EvaluateFunc) *Provider {
	if client == nil {
		client = httpclient.Default()
	}
	return &Provider{
		client:              client,
		secrets:             secrets,
		controllerNamespace: controllerNamespace,
		evaluate:            evaluate,
		userAgent:           "serin (https://github.com/serin-dev/serin)",
	}
}

// Type returns "NewRelic".
func (p *Provider) Type() string { return ProviderType }

// Metadata records the NRQL statement as it was sent.
func (p *Provider) Metadata(m v1alpha1.Metric) map[string]string {
	if m.Provider.NewRelic == nil || m.Provider.NewRelic.Query == "" {
		return nil
	}
	return map[string]string{MetadataQuery: m.Provider.NewRelic.Query}
}

// Resume returns the measurement unchanged: New Relic measurements finish in Run.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// Terminate returns the measurement unchanged: New Relic measurements finish in Run.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// GarbageCollect has nothing to remove.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// profile is what one profile Secret says about an account.
type profile struct {
	apiKey    string
	accountID int
	endpoint  string
}

// Run executes the NRQL statement and judges the rows it returns. One row
// is handed to the conditions as a map (`result.successRate`), several as a
// list of maps. A timeout above httpclient.MaxTimeout is lowered to it, and
// the measurement says so.
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	nr := m.Provider.NewRelic
	if nr == nil {
		return metric.MarkError(out, fmt.Errorf("newrelic: metric %q has no newRelic provider", m.Name))
	}
	timeout := int64(defaultTimeout)
	if nr.Timeout != nil {
		timeout = *nr.Timeout
	}
	if timeout < 0 {
		return metric.MarkError(out, fmt.Errorf("newrelic: timeout %d must not be negative", timeout))
	}
	limit, note := httpclient.LimitSeconds(timeout)
	name := nr.Profile
	if name == "" {
		name = DefaultProfile
	}
	prof, err := p.readProfile(ctx, name)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("newrelic: %v", err))
	}
	out = p.measure(ctx, m, nr.Query, int64(limit/time.Second), prof)
	return metric.NoteTimeout(metric.RedactMeasurement(out, []string{prof.apiKey}), note)
}

// readProfile reads a profile Secret from the controller's namespace.
// Errors name the Secret and its missing keys, never a value.
func (p *Provider) readProfile(ctx context.Context, name string) (profile, error) {
	ns := p.controllerNamespace
	if p.secrets == nil {
		return profile{}, fmt.Errorf("cannot read Secret %s/%s: no Secret reader configured", ns, name)
	}
	s, err := p.secrets.GetSecret(ctx, ns, name)
	if err != nil {
		return profile{}, fmt.Errorf("cannot read Secret %s/%s with the New Relic profile: %v", ns, name, err)
	}
	apiKey := string(s.Data[apiKeyKey])
	account := string(s.Data[accountIDKey])
	var missing []string
	if apiKey == "" {
		missing = append(missing, apiKeyKey)
	}
	if account == "" {
		missing = append(missing, accountIDKey)
	}
	if len(missing) > 0 {
		return profile{}, fmt.Errorf("Secret %s/%s lacks %s", ns, name, strings.Join(missing, " and "))
	}
	id, err := strconv.Atoi(strings.TrimSpace(account))
	if err != nil {
		return profile{}, fmt.Errorf("key %s of Secret %s/%s is not a number", accountIDKey, ns, name)
	}
	endpoint := string(s.Data[nerdGraphURLKey])
	if endpoint == "" {
		region := defaultRegion
		if r, ok := s.Data[regionKey]; ok {
			region = strings.ToLower(strings.TrimSpace(string(r)))
		}
		u, ok := nerdGraphURLs[region]
		if !ok {
			return profile{}, fmt.Errorf("key %s of Secret %s/%s names an unknown region %q (us, eu or staging)", regionKey, ns, name, region)
		}
		endpoint = u
	}
	if _, err := url.Parse(endpoint); err != nil {
		return profile{}, fmt.Errorf("key %s of Secret %s/%s is not a URL", nerdGraphURLKey, ns, name)
	}
	return profile{apiKey: apiKey, accountID: id, endpoint: endpoint}, nil
}

// graphQLRequest is the body of a NerdGraph call.
type graphQLRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// graphQLResponse is the part of NerdGraph's answer that is read.
type graphQLResponse struct {
	Data *struct {
		Actor *struct {
			Account *struct {
				NRQL *struct {
					Results []map[string]any `json:"results"`
				} `json:"nrql"`
			} `json:"account"`
		} `json:"actor"`
	} `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// measure sends the query and turns the rows into a measurement.
func (p *Provider) measure(ctx context.Context, m v1alpha1.Metric, nrql string, timeout int64, prof profile) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	payload, err := requestBody(nrql, timeout, prof)
	if err != nil {
		return metric.MarkError(out, err)
	}
	resp, err := httpclient.Do(ctx, p.client, httpclient.Request{
		Method: http.MethodPost,
		URL:    prof.endpoint,
		Header: map[string]string{
			"Content-Type": "application/json",
			"Accept":       "application/json",
			"API-Key":      prof.apiKey,
			"User-Agent":   p.userAgent,
		},
		Body:    payload,
		Timeout: time.Duration(timeout)*time.Second + requestAllowance,
	})
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("newrelic: %w", err))
	}
	rows, err := nrqlRows(resp.Body)
	if err != nil {
		return metric.MarkError(out, err)
	}
	typed, value, err := conditionInput(rows)
	if err != nil {
		return metric.MarkError(out, err)
	}
	out.Value = value
	return p.judge(out, typed, m)
}

// requestBody is the NerdGraph call that runs nrql in the profile's account.
func requestBody(nrql string, timeout int64, prof profile) ([]byte, error) {
	payload, err := json.Marshal(graphQLRequest{
		Query: nrqlQuery,
		Variables: map[string]any{
			"accountId": prof.accountID,
			"query":     nrql,
			"timeout":   timeout,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("newrelic: building the request: %v", err)
	}
	return payload, nil
}

// nrqlRows reads the NRQL rows out of NerdGraph's answer; GraphQL errors and
// an answer without NRQL results are errors.
func nrqlRows(body []byte) ([]map[string]any, error) {
	var r graphQLResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("newrelic: NerdGraph's answer is not JSON: %v", err)
	}
	if len(r.Errors) > 0 {
		msgs := make([]string, len(r.Errors))
		for i, e := range r.Errors {
			msgs[i] = e.Message
		}
		return nil, fmt.Errorf("newrelic: the NRQL query failed: %s", strings.Join(msgs, "; "))
	}
	if r.Data == nil || r.Data.Actor == nil || r.Data.Actor.Account == nil || r.Data.Actor.Account.NRQL == nil {
		return nil, errors.New("newrelic: NerdGraph's answer has no NRQL results")
	}
	return r.Data.Actor.Account.NRQL.Results, nil
}

// conditionInput is what the conditions see of the rows (one row as a map,
// several as a list) and its JSON for the measurement's value; no rows, or
// one empty row, is an error.
func conditionInput(rows []map[string]any) (any, string, error) {
	var typed any
	switch {
	case len(rows) == 0 || (len(rows) == 1 && len(rows[0]) == 0):
		return nil, "", errors.New("newrelic: no results returned from NRQL query")
	case len(rows) == 1:
		typed = rows[0]
	default:
		typed = rows
	}
	raw, err := json.Marshal(typed)
	if err != nil {
		return nil, "", fmt.Errorf("newrelic: recording the results: %v", err)
	}
	return typed, string(raw), nil
}

// judge evaluates the metric's conditions against the rows and sets out's
// phase.
func (p *Provider) judge(out v1alpha1.Measurement, typed any, m v1alpha1.Metric) v1alpha1.Measurement {
	if p.evaluate == nil {
		return metric.MarkError(out, errors.New("newrelic: no condition evaluator configured"))
	}
	phase, err := p.evaluate(typed, m)
	if err != nil {
		return metric.MarkError(out, err)
	}
	out.Phase = phase
	return out
}

// Package influxdb measures a metric with a Flux query against InfluxDB 2's
// query API, reading the annotated CSV it answers with.
package influxdb

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
	"github.com/serin-dev/serin/pkg/metric/measure"
)

// ProviderType is the provider's name in metrics and events.
const ProviderType = "Influxdb"

const (
	// DefaultProfile is the Secret, in the controller's namespace, read when
	// the metric names no profile.
	DefaultProfile = "influxdb"
	// Keys of the profile Secret.
	tokenKey   = "authToken"
	orgKey     = "org"
	addressKey = "address"

	queryTimeout = 30 * time.Second
)

// Provider runs Flux queries. It is safe for concurrent use.
type Provider struct {
	client              *http.Client
	secrets             metric.SecretGetter
	controllerNamespace string
	evaluate            metric.EvaluateFunc
}

var _ metric.Provider = (*Provider)(nil)

// New returns an InfluxDB provider. client sends the requests, secrets
// reads the profile Secret from controllerNamespace, and evaluate turns the
// values into a phase (pass metric.Evaluate). A nil client is
// httpclient.Default().
func New(client *http.Client, secrets metric.SecretGetter, controllerNamespace string, evaluate metric.EvaluateFunc) *Provider {
	if client == nil {
		client = httpclient.Default()
	}
	return &Provider{client: client, secrets: secrets, controllerNamespace: controllerNamespace, evaluate: evaluate}
}

// Type returns "Influxdb".
func (p *Provider) Type() string { return ProviderType }

// Metadata returns nothing for InfluxDB.
func (p *Provider) Metadata(v1alpha1.Metric) map[string]string { return nil }

// Resume returns the measurement unchanged: InfluxDB measurements finish in Run.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// Terminate returns the measurement unchanged: InfluxDB measurements finish in Run.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	return in
}

// GarbageCollect has nothing to remove.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// profile is what one profile Secret says about a server.
type profile struct {
	address string
	token   string
	org     string
}

// Run executes the Flux query and judges its records. Conditions see the
// _value of every record of every table, in order, as a []any whose
// elements have the column's type (float64 for double, int64 for long, and
// so on), as in `result[0] <= 0.01`.
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	spec := m.Provider.Influxdb
	if spec == nil {
		return metric.MarkError(out, fmt.Errorf("influxdb: metric %q has no influxdb provider", m.Name))
	}
	name := spec.Profile
	if name == "" {
		name = DefaultProfile
	}
	prof, err := p.readProfile(ctx, name)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("influxdb: %v", err))
	}
	out = p.measure(ctx, m, spec.Query, prof)
	return metric.RedactMeasurement(out, []string{prof.token})
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
		return profile{}, fmt.Errorf("cannot read Secret %s/%s with the InfluxDB profile: %v", ns, name, err)
	}
	prof := profile{address: string(s.Data[addressKey]), token: string(s.Data[tokenKey]), org: string(s.Data[orgKey])}
	var missing []string
	for _, k := range []struct{ key, value string }{{tokenKey, prof.token}, {orgKey, prof.org}, {addressKey, prof.address}} {
		if k.value == "" {
			missing = append(missing, k.key)
		}
	}
	if len(missing) > 0 {
		return profile{}, fmt.Errorf("Secret %s/%s lacks %s", ns, name, strings.Join(missing, ", "))
	}
	return prof, nil
}

// fluxRequest is the body of POST /api/v2/query.
type fluxRequest struct {
	Query   string  `json:"query"`
	Type    string  `json:"type"`
	Dialect dialect `json:"dialect"`
}

type dialect struct {
	Annotations []string `json:"annotations"`
	Delimiter   string   `json:"delimiter"`
	Header      bool     `json:"header"`
}

// measure sends the query and turns the records into a measurement.
func (p *Provider) measure(ctx context.Context, m v1alpha1.Metric, query string, prof profile) v1alpha1.Measurement {
	var out v1alpha1.Measurement
	u, err := url.Parse(prof.address)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return metric.MarkError(out, fmt.Errorf("influxdb: address %q is not a valid URL", prof.address))
	}
	u.Path = path.Join("/", u.Path, "api/v2/query")
	u.RawPath = ""
	u.RawQuery = url.Values{"org": {prof.org}}.Encode()
	payload, err := json.Marshal(fluxRequest{
		Query: query,
		Type:  "flux",
		Dialect: dialect{
			Annotations: []string{"datatype", "group", "default"},
			Delimiter:   ",",
			Header:      true,
		},
	})
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("influxdb: building the request: %v", err))
	}
	resp, err := httpclient.Do(ctx, p.client, httpclient.Request{
		Method: http.MethodPost,
		URL:    u.String(),
		Header: map[string]string{
			"Authorization": "Token " + prof.token,
			"Content-Type":  "application/json",
			"Accept":        "application/csv",
		},
		Body:    payload,
		Timeout: queryTimeout,
	})
	var status *httpclient.StatusError
	if errors.As(err, &status) {
		return metric.MarkError(out, fmt.Errorf("influxdb: %s answered %d: %s", status.Host, status.StatusCode, apiError(status.Body)))
	}
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("influxdb: %w", err))
	}
	values, err := parseValues(resp.Body)
	if err != nil {
		return metric.MarkError(out, fmt.Errorf("influxdb: reading the query result: %v", err))
	}
	if len(values) == 0 {
		return metric.MarkError(out, errors.New("influxdb: no results returned from flux query"))
	}
	out.Value = fmt.Sprint(values)
	if p.evaluate == nil {
		return metric.MarkError(out, errors.New("influxdb: no condition evaluator configured"))
	}
	phase, err := p.evaluate(values, m)
	if err != nil {
		return metric.MarkError(out, err)
	}
	out.Phase = phase
	return out
}

// apiError is the message of an InfluxDB error document, or the start of
// the body when it is not one.
func apiError(body []byte) string {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		if e.Code != "" {
			return e.Code + ": " + e.Message
		}
		return e.Message
	}
	return measure.Snippet(body)
}

// column is one column of an annotated CSV table.
type column struct {
	name     string
	datatype string
	fallback string
}

// parseValues reads InfluxDB's annotated CSV and returns the _value of
// every record, converted to its column's datatype. Each table opens with
// #datatype, #group and #default rows and a header row; a table whose
// header is "error,reference" reports a failed query.
func parseValues(body []byte) ([]any, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	var values []any
	t := csvTable{valueIndex: -1}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return values, nil
		}
		if err != nil {
			return nil, err
		}
		v, isRecord, err := t.read(row)
		if err != nil {
			return nil, err
		}
		if isRecord {
			values = append(values, v)
		}
	}
}

// csvTable is what parseValues knows of the annotated CSV table it is
// reading: its columns, where it stands among annotations and header, and
// which column holds _value (-1 for none).
type csvTable struct {
	cols        []column
	annotating  bool
	haveTypes   bool
	awaitHeader bool
	errorTable  bool
	valueIndex  int
}

// read takes one CSV row into the table; for a record row it returns the
// record's value and true.
func (t *csvTable) read(row []string) (any, bool, error) {
	if len(row) <= 1 {
		// A blank line ends a table; the next one brings its own annotations.
		t.annotating = false
		return nil, false, nil
	}
	if strings.HasPrefix(row[0], "#") {
		return nil, false, t.annotate(row)
	}
	t.annotating = false
	if t.cols == nil {
		return nil, false, errors.New("the table has no annotations")
	}
	if len(row)-1 != len(t.cols) {
		return nil, false, fmt.Errorf("a row has %d columns, the table %d", len(row)-1, len(t.cols))
	}
	if t.awaitHeader {
		return nil, false, t.header(row)
	}
	v, err := t.record(row)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// annotate reads an annotation row; the first of a run of annotations
// starts a new table.
func (t *csvTable) annotate(row []string) error {
	if !t.annotating {
		t.cols = make([]column, len(row)-1)
		t.annotating, t.haveTypes, t.awaitHeader, t.errorTable, t.valueIndex = true, false, true, false, -1
	}
	if len(row)-1 != len(t.cols) {
		return fmt.Errorf("annotation %s has %d columns, the table %d", row[0], len(row)-1, len(t.cols))
	}
	switch row[0] {
	case "#datatype":
		t.haveTypes = true
		for i, typ := range row[1:] {
			t.cols[i].datatype = typ
		}
	case "#default":
		for i, d := range row[1:] {
			t.cols[i].fallback = d
		}
	}
	return nil
}

// header reads the table's header row: the column names, where _value is,
// and whether the table reports an error.
func (t *csvTable) header(row []string) error {
	if !t.haveTypes {
		return errors.New("the table has no #datatype annotation")
	}
	for i, n := range row[1:] {
		t.cols[i].name = n
		if n == "_value" {
			t.valueIndex = i
		}
	}
	t.errorTable = row[1] == "error"
	t.awaitHeader = false
	return nil
}

// record is the _value of a data row converted to its datatype, nil when
// the table has no _value column; a row of an error table is the query's
// error.
func (t *csvTable) record(row []string) (any, error) {
	if t.errorTable {
		msg := row[1]
		if msg == "" {
			msg = "unknown query error"
		}
		if len(row) > 2 && row[2] != "" {
			msg += " (reference " + row[2] + ")"
		}
		return nil, fmt.Errorf("the query failed: %s", msg)
	}
	if t.valueIndex < 0 {
		return nil, nil
	}
	c := t.cols[t.valueIndex]
	raw := row[t.valueIndex+1]
	if raw == "" {
		raw = c.fallback
	}
	v, err := convert(raw, c.datatype)
	if err != nil {
		return nil, fmt.Errorf("column %s: %v", c.name, err)
	}
	return v, nil
}

// convert turns a CSV cell into the Go value of its Flux datatype; an empty
// cell is nil.
func convert(s, datatype string) (any, error) {
	if s == "" {
		return nil, nil
	}
	switch datatype {
	case "string":
		return s, nil
	case "double":
		return strconv.ParseFloat(s, 64)
	case "long":
		return strconv.ParseInt(s, 10, 64)
	case "unsignedLong":
		return strconv.ParseUint(s, 10, 64)
	case "boolean":
		return !strings.EqualFold(s, "false"), nil
	case "dateTime:RFC3339":
		return time.Parse(time.RFC3339, s)
	case "dateTime:RFC3339Nano":
		return time.Parse(time.RFC3339Nano, s)
	case "duration":
		return time.ParseDuration(s)
	case "base64Binary":
		return base64.StdEncoding.DecodeString(s)
	default:
		return nil, fmt.Errorf("unknown datatype %q", datatype)
	}
}

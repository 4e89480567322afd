package datadog

// This file holds Datadog's wire format: how a query becomes an HTTP request
// for the v1 or v2 API, and how each API's answer becomes one result.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/httpclient"
	"github.com/serin-dev/serin/pkg/metric/measure"
)

// v1Request is GET /api/v1/query over the window [from, to], in seconds.
func v1Request(address, query string, from, to int64) (httpclient.Request, error) {
	u, err := url.Parse(address + "/api/v1/query")
	if err != nil {
		return httpclient.Request{}, err
	}
	q := url.Values{}
	q.Set("query", query)
	q.Set("from", strconv.FormatInt(from, 10))
	q.Set("to", strconv.FormatInt(to, 10))
	u.RawQuery = q.Encode()
	return httpclient.Request{Method: http.MethodGet, URL: u.String()}, nil
}

// v2Body is the JSON document POST /api/v2/query/scalar takes.
type v2Body struct {
	Data v2Data `json:"data"`
}

type v2Data struct {
	Type       string       `json:"type"`
	Attributes v2Attributes `json:"attributes"`
}

type v2Attributes struct {
	From     int64               `json:"from"`
	To       int64               `json:"to"`
	Queries  []v2Query           `json:"queries"`
	Formulas []map[string]string `json:"formulas"`
}

type v2Query struct {
	Aggregator string `json:"aggregator"`
	DataSource string `json:"data_source"`
	Name       string `json:"name"`
	Query      string `json:"query"`
}

// v2Request is POST /api/v2/query/scalar over the window [from, to], sent
// in milliseconds as that API wants.
func v2Request(address string, cfg config, from, to int64) (httpclient.Request, error) {
	names := make([]string, 0, len(cfg.queries))
	for name := range cfg.queries {
		names = append(names, name)
	}
	sort.Strings(names)
	b := v2Body{Data: v2Data{
		Type: "scalar_request",
		Attributes: v2Attributes{
			From:     from * 1000,
			To:       to * 1000,
			Queries:  make([]v2Query, 0, len(names)),
			Formulas: []map[string]string{},
		},
	}}
	for _, name := range names {
		b.Data.Attributes.Queries = append(b.Data.Attributes.Queries, v2Query{
			Aggregator: cfg.aggregator,
			DataSource: "metrics",
			Name:       name,
			Query:      cfg.queries[name],
		})
	}
	if cfg.formula != "" {
		b.Data.Attributes.Formulas = append(b.Data.Attributes.Formulas, map[string]string{"formula": cfg.formula})
	}
	payload, err := json.Marshal(b)
	if err != nil {
		return httpclient.Request{}, err
	}
	return httpclient.Request{Method: http.MethodPost, URL: address + "/api/v2/query/scalar", Body: payload}, nil
}

// result is a parsed answer: the typed value conditions see, its textual
// form for the measurement, and optional metadata.
type result struct {
	typed    any
	value    string
	metadata map[string]string
}

// v1Response is the part of a v1 query answer that is read.
type v1Response struct {
	Series []v1Series `json:"series"`
}

type v1Series struct {
	Pointlist [][]*float64 `json:"pointlist"`
}

// parseV1 takes the value of the last point of the first series. A query
// with no series or no points yields a nil result (so `default(result, x)`
// applies) and records the series as returned; a last point whose value is
// null counts as no data too.
func parseV1(body []byte) (result, error) {
	var r v1Response
	if err := json.Unmarshal(body, &r); err != nil {
		return result{}, fmt.Errorf("the v1 query answer is not JSON: %v", err)
	}
	if len(r.Series) == 0 || len(r.Series[0].Pointlist) == 0 {
		return emptyV1(r.Series)
	}
	points := r.Series[0].Pointlist
	last := points[len(points)-1]
	if len(last) != 2 {
		return result{}, fmt.Errorf("the last point of the series has %d values, expected a timestamp and a value", len(last))
	}
	if last[1] == nil {
		return emptyV1(r.Series)
	}
	v := *last[1]
	return result{typed: v, value: formatFloat(v)}, nil
}

// emptyV1 is the result of a v1 query that found no data: nil, recorded as
// the series Datadog returned.
func emptyV1(series []v1Series) (result, error) {
	raw, err := json.Marshal(series)
	if err != nil {
		return result{}, err
	}
	return result{typed: nil, value: string(raw)}, nil
}

// v2Response is the part of a v2 scalar answer that is read.
type v2Response struct {
	Data struct {
		Attributes struct {
			Columns []v2Column `json:"columns"`
		} `json:"attributes"`
		Errors string `json:"errors"`
	} `json:"data"`
	Errors []string `json:"errors"`
}

// v2Column is one column of a scalar answer. A "number" column holds one
// value (or null) per group; a "group" column holds, per group, the tag
// values of one dimension of a `by {...}` clause. Older answers carry no
// type; such a column is read as numbers.
type v2Column struct {
	Name   string            `json:"name"`
	Type   string            `json:"type"`
	Values []json.RawMessage `json:"values"`
}

// group pairs a value of a grouped query with the tags it belongs to.
type group struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// parseV2 reads the first number column. Without a group column the result
// is its first value, a float64; with one (a `by {...}` query) the result
// is every value as []float64, even a single one, and the (tags, value)
// pairs go to metadata "groups". Null values are groups without data and
// are skipped. No value at all yields a nil result recorded as "[]".
func parseV2(body []byte) (result, error) {
	var r v2Response
	if err := json.Unmarshal(body, &r); err != nil {
		return result{}, fmt.Errorf("the v2 query answer is not JSON: %v", err)
	}
	if err := v2Failure(r); err != nil {
		return result{}, err
	}
	numbers, groups := v2Columns(r.Data.Attributes.Columns)
	values, pairs, err := v2Values(numbers, groups)
	if err != nil {
		return result{}, err
	}
	if len(values) == 0 {
		return result{typed: nil, value: "[]"}, nil
	}
	if len(groups) == 0 {
		return result{typed: values[0], value: formatFloat(values[0])}, nil
	}
	return groupedResult(values, pairs)
}

// v2Failure is the error a v2 answer reports, if any.
func v2Failure(r v2Response) error {
	if r.Data.Errors != "" {
		return fmt.Errorf("the query failed: %s", r.Data.Errors)
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("the query failed: %s", strings.Join(r.Errors, "; "))
	}
	return nil
}

// v2Columns picks the first number column (nil if none) and every group
// column of a scalar answer.
func v2Columns(columns []v2Column) (*v2Column, []*v2Column) {
	var numbers *v2Column
	var groups []*v2Column
	for i := range columns {
		c := &columns[i]
		switch c.Type {
		case "", "number":
			if numbers == nil {
				numbers = c
			}
		case "group":
			groups = append(groups, c)
		}
	}
	return numbers, groups
}

// v2Values reads the non-null values of the number column and, when there
// are group columns, pairs each with its group's name.
func v2Values(numbers *v2Column, groups []*v2Column) ([]float64, []group, error) {
	var values []float64
	var pairs []group
	if numbers == nil {
		return values, pairs, nil
	}
	for i, raw := range numbers.Values {
		if isNull(raw) {
			continue
		}
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, nil, fmt.Errorf("value %s of column %q is not a number", measure.Snippet(raw), numbers.Name)
		}
		values = append(values, f)
		if len(groups) > 0 {
			name, err := groupName(groups, i)
			if err != nil {
				return nil, nil, err
			}
			pairs = append(pairs, group{Name: name, Value: f})
		}
	}
	return values, pairs, nil
}

// groupedResult is the result of a grouped query: every value (recorded as
// metric.FormatList writes them), and the (tags, value) pairs, cut to the
// extremes, in metadata "groups".
func groupedResult(values []float64, pairs []group) (result, error) {
	meta := map[string]string{}
	shown, truncated := keepExtremes(pairs)
	raw, err := json.Marshal(shown)
	if err != nil {
		return result{}, err
	}
	meta["groups"] = string(raw)
	if truncated {
		meta["groups_truncated"] = "true"
	}
	value := metric.FormatList(len(values), func(i int) string { return formatFloat(values[i]) })
	return result{typed: values, value: value, metadata: meta}, nil
}

// groupName joins the tag values of row i across the group columns, so a
// query `by {region, host}` names its rows "us-east,host-a". A row missing
// from a column, or with no tag there, is an error rather than a blank name.
func groupName(columns []*v2Column, i int) (string, error) {
	var tags []string
	for _, c := range columns {
		if i >= len(c.Values) {
			return "", fmt.Errorf("group column %q has no entry for row %d", c.Name, i)
		}
		var t []string
		if err := json.Unmarshal(c.Values[i], &t); err != nil || len(t) == 0 {
			return "", fmt.Errorf("group column %q has no tags for row %d", c.Name, i)
		}
		tags = append(tags, t...)
	}
	return strings.Join(tags, ","), nil
}

// keepExtremes returns at most maxGroups pairs: all of them when they fit,
// otherwise the lowest and highest values (half each), since the group a
// condition trips on sits at one end or the other.
func keepExtremes(pairs []group) ([]group, bool) {
	if len(pairs) <= maxGroups {
		return pairs, false
	}
	sorted := append([]group(nil), pairs...)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].Value < sorted[b].Value })
	low := maxGroups / 2
	high := maxGroups - low
	kept := append(sorted[:low:low], sorted[len(sorted)-high:]...)
	return kept, true
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// formatFloat writes a value as Argo Rollouts records it: the shortest
// decimal form that reads back to the same float.
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

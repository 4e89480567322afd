package metric

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// ResolveArgs substitutes the run's arguments into every {{args.<name>}}
// placeholder of a metric: its conditions, counts, limits and provider
// settings alike. Values are escaped as JSON string content, so quotes and
// newlines in a value cannot break out of the field they land in.
//
// Every argument must have a value by now (secrets already read): an
// argument without one is an error even when no placeholder uses it, and so
// is a placeholder naming an unknown argument, as in Argo Rollouts.
func ResolveArgs(m v1alpha1.Metric, args []v1alpha1.Argument) (v1alpha1.Metric, error) {
	values := make(map[string]string, len(args))
	for _, a := range args {
		if a.Value == nil {
			return m, fmt.Errorf("argument %q was not supplied", a.Name)
		}
		escaped, err := jsonStringContent(*a.Value)
		if err != nil {
			return m, err
		}
		values["args."+a.Name] = escaped
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return m, err
	}
	substituted, err := substitute(string(raw), values)
	if err != nil {
		return m, err
	}
	var out v1alpha1.Metric
	if err := json.Unmarshal([]byte(substituted), &out); err != nil {
		return m, fmt.Errorf("metric %q after argument substitution: %w", m.Name, err)
	}
	return out, nil
}

// Substitute replaces each {{tag}} placeholder of s (spaces around the tag
// allowed) with its value in values. A tag with no value is an error,
// "failed to resolve {{tag}}", reported for the first one found. Values are
// inserted as they are, unescaped.
func Substitute(s string, values map[string]string) (string, error) {
	return substitute(s, values)
}

// substitute replaces each {{tag}} (spaces around the tag allowed) with its
// value. Unknown tags are an error, reported for the first one found.
func substitute(s string, values map[string]string) (string, error) {
	var b strings.Builder
	var firstErr error
	for {
		start := strings.Index(s, "{{")
		if start < 0 {
			b.WriteString(s)
			break
		}
		end := strings.Index(s[start+2:], "}}")
		if end < 0 {
			return "", fmt.Errorf("cannot find end tag \"}}\" after %q", s[start:])
		}
		tag := s[start+2 : start+2+end]
		b.WriteString(s[:start])
		if v, ok := values[strings.TrimSpace(tag)]; ok {
			b.WriteString(v)
		} else if firstErr == nil {
			firstErr = fmt.Errorf("failed to resolve {{%s}}", tag)
		}
		s = s[start+2+end+2:]
	}
	return b.String(), firstErr
}

// jsonStringContent is v encoded as the inside of a JSON string literal.
func jsonStringContent(v string) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	out := strings.TrimSuffix(buf.String(), "\n")
	return out[1 : len(out)-1], nil
}

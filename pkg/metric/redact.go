package metric

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Redaction keeps secrets out of everything Serin records or shows: the
// values of an AnalysisRun's secret arguments, and the credentials a
// provider reads for itself. One rule holds everywhere:
//
//   - every occurrence of a non-empty secret is replaced with Redacted: a
//     short secret (a PIN, a one-letter password) is still a secret, and
//     leaving it visible is worse than masking an ordinary digit with it;
//   - in a measurement, the Message, the Value and both the keys and the
//     values of the Metadata are redacted;
//   - the input is never changed: a redacted map is a new map, and a nil map
//     stays nil.
const (
	// Redacted replaces a secret value wherever it would otherwise be shown.
	Redacted = "*****"
	// MinSecretLen is the length of the shortest secret that is redacted:
	// every secret but the empty one.
	MinSecretLen = 1
)

// Redact returns s with every secret in it replaced with Redacted, in each
// form a secret takes on its way into a message: as written, quoted by Go's
// %q, escaped inside a JSON string, URL-encoded (query or path), and
// base64-encoded on its own (standard and URL alphabets, padded or not).
// Longer forms are replaced first, so no form leaves a piece of another.
func Redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if len(secret) < MinSecretLen {
			continue
		}
		for _, form := range encodedForms(secret) {
			s = strings.ReplaceAll(s, form, Redacted)
		}
	}
	return s
}

// encodedForms lists the distinct forms of a secret, longest first.
func encodedForms(secret string) []string {
	quoted := strconv.Quote(secret)
	jsonQuoted, _ := json.Marshal(secret) // a string always marshals
	forms := []string{
		secret,
		quoted[1 : len(quoted)-1],
		string(jsonQuoted[1 : len(jsonQuoted)-1]),
		url.QueryEscape(secret),
		url.PathEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.URLEncoding.EncodeToString([]byte(secret)),
		base64.RawStdEncoding.EncodeToString([]byte(secret)),
		base64.RawURLEncoding.EncodeToString([]byte(secret)),
	}
	slices.SortFunc(forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(forms)
}

// RedactMap returns a copy of in with its keys and values redacted, or in
// itself when it is nil or no secret is long enough to be redacted.
func RedactMap(in map[string]string, secrets []string) map[string]string {
	if in == nil || !anyRedactable(secrets) {
		return in
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[Redact(k, secrets)] = Redact(v, secrets)
	}
	return out
}

// RedactMeasurement returns m with its Message, Value and Metadata redacted.
func RedactMeasurement(m v1alpha1.Measurement, secrets []string) v1alpha1.Measurement {
	if !anyRedactable(secrets) {
		return m
	}
	m.Message = Redact(m.Message, secrets)
	m.Value = Redact(m.Value, secrets)
	m.Metadata = RedactMap(m.Metadata, secrets)
	return m
}

func anyRedactable(secrets []string) bool {
	for _, secret := range secrets {
		if len(secret) >= MinSecretLen {
			return true
		}
	}
	return false
}

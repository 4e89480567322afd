// Package measure holds the helpers providers use to build measurements.
package measure

import (
	"errors"
	"net/url"
	"strings"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// TransportError drops the method and URL net/http puts in front of a
// transport error, since the message already names them.
func TransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Snippet is the start of a response body, for an error message.
func Snippet(body []byte) string {
	const limit = 512
	s := strings.TrimSpace(string(body))
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

// MinSecretLen is the shortest credential Scrub looks for; shorter strings
// would blank out ordinary words rather than protect anything.
const MinSecretLen = 4

// Scrub replaces any credential that found its way into the measurement
// (a backend echoing a key in an error, say) with a mask.
func Scrub(in v1alpha1.Measurement, secrets ...string) v1alpha1.Measurement {
	clean := func(s string) string {
		for _, secret := range secrets {
			if len(secret) >= MinSecretLen {
				s = strings.ReplaceAll(s, secret, "*****")
			}
		}
		return s
	}
	in.Message = clean(in.Message)
	in.Value = clean(in.Value)
	if in.Metadata != nil {
		md := make(map[string]string, len(in.Metadata))
		for k, v := range in.Metadata {
			md[clean(k)] = clean(v)
		}
		in.Metadata = md
	}
	return in
}

// Package measure holds the helpers providers use to word the message of a
// failed request: the transport error without the URL net/http repeats, and
// the start of a response body.
package measure

import (
	"errors"
	"net/url"
	"strings"
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

package httpclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/serin-dev/serin/pkg/metric/measure"
)

const (
	// DefaultTimeout bounds a request that names no timeout.
	DefaultTimeout = 30 * time.Second
	// MaxTimeout is the ceiling of every request timeout, user-set ones
	// included. The slowest backends answer within about two minutes (New
	// Relic's NRQL timeout tops out at 120 seconds); a longer timeout is
	// almost always a typo, such as seconds written as milliseconds, and
	// would hold an AnalysisRun worker that long.
	MaxTimeout = 5 * time.Minute
)

// LimitTimeout applies the ceiling to a user-set timeout: d itself when it
// is at most MaxTimeout, otherwise MaxTimeout and a note saying so.
func LimitTimeout(d time.Duration) (time.Duration, string) {
	if d <= MaxTimeout {
		return d, ""
	}
	return MaxTimeout, fmt.Sprintf("timeout %v is above the %v ceiling; %v is used", d, MaxTimeout, MaxTimeout)
}

// LimitSeconds is LimitTimeout for a timeout in whole seconds; it does not
// overflow, however large s is.
func LimitSeconds(s int64) (time.Duration, string) {
	if s <= int64(MaxTimeout/time.Second) {
		return time.Duration(s) * time.Second, ""
	}
	return MaxTimeout, fmt.Sprintf("timeout %ds is above the %v ceiling; %v is used", s, MaxTimeout, MaxTimeout)
}

// deadline is the time a request may take: DefaultTimeout when it names
// none, never more than MaxTimeout.
func deadline(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return DefaultTimeout
	case d > MaxTimeout:
		return MaxTimeout
	}
	return d
}

// Request is one call of a provider to its backend.
type Request struct {
	// Method is GET when empty.
	Method string
	URL    string
	Header map[string]string
	// Body is sent when not nil.
	Body []byte
	// Timeout bounds the whole call, reading the answer included:
	// DefaultTimeout when zero, never more than MaxTimeout. The caller's
	// context may end it sooner.
	Timeout time.Duration
	// Prepare, when set, is the last step before sending, such as signing.
	Prepare func(*http.Request) error
	// Accept says which status codes carry an answer; 2xx when nil.
	Accept func(code int) bool
}

// Response is a backend's answer, its body read in full.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// StatusError is an answer whose status code the request does not accept.
type StatusError struct {
	// Host names the server that answered.
	Host string
	Response
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered %d: %s", e.Host, e.StatusCode, measure.Snippet(e.Body))
}

// Do sends r with client (Default() when nil) under a deadline derived from
// ctx and r.Timeout, and reads the answer through the MaxResponseBytes cap.
// Errors name the method and URL (without credentials) when the request
// cannot be sent, the host when its answer cannot be read; an answer the
// request does not accept is a *StatusError, returned with the response.
func Do(ctx context.Context, client *http.Client, r Request) (*Response, error) {
	if client == nil {
		client = Default()
	}
	ctx, cancel := context.WithTimeout(ctx, deadline(r.Timeout))
	defer cancel()
	req, err := newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), measure.TransportError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	body, readErr := ReadCapped(resp.Body)
	out := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	accept := r.Accept
	if accept == nil {
		accept = func(code int) bool { return code >= 200 && code <= 299 }
	}
	if readErr != nil && (accept(resp.StatusCode) || !IsTooLarge(readErr)) {
		return nil, fmt.Errorf("reading the answer of %s: %w", req.URL.Host, readErr)
	}
	if !accept(resp.StatusCode) {
		return out, &StatusError{Host: req.URL.Host, Response: *out}
	}
	return out, nil
}

// newRequest builds r's request under ctx.
func newRequest(ctx context.Context, r Request) (*http.Request, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		return nil, fmt.Errorf("building the request: %v", err)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if r.Prepare != nil {
		if err := r.Prepare(req); err != nil {
			return nil, err
		}
	}
	return req, nil
}

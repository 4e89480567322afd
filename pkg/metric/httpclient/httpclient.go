// Package httpclient is the one HTTP path of the metric providers. It builds
// their clients (TLS verification, extra headers, basic auth and OAuth2
// client credentials, with Argo Rollouts' validation messages) and sends
// their requests (Do). Every request runs under a deadline derived from the
// caller's context, token and DNS lookups included, no timeout exceeds
// MaxTimeout, and no response body is read beyond MaxResponseBytes.
package httpclient

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Config describes one provider's client.
type Config struct {
	// Insecure skips verification of the server's TLS certificate.
	Insecure bool
	// Timeout bounds each request, token requests included; 0 leaves it to
	// the request's context. It is lowered to MaxTimeout when above it.
	Timeout time.Duration
	// Headers are set on every request.
	Headers []v1alpha1.WebMetricHeader
	// BasicAuth, when a username or password is set, authenticates every
	// request; both must then be set.
	BasicAuth v1alpha1.BasicAuthConfig
	// OAuth2, when a token URL is set, fetches a bearer token with the
	// client credentials flow; client id and secret must then be set.
	OAuth2 v1alpha1.OAuth2Config
	// Wrap, when set, wraps the transport last, e.g. to sign requests.
	Wrap func(http.RoundTripper) http.RoundTripper
}

// Shared transports, so that measurements reuse connections. Dialing, DNS
// lookups included, follows the request's context.
var (
	secureTransport   = newTransport(false, nil)
	insecureTransport = newTransport(true, nil)
	defaultClient     = &http.Client{Transport: capTransport{next: secureTransport}}
)

// Default is the client of providers that are given none: TLS verified, no
// timeout of its own (Do sets one), response bodies capped.
func Default() *http.Client { return defaultClient }

// newTransport is a transport whose dialer looks names up with resolver (the
// system's when nil) under the request's context.
func newTransport(insecure bool, resolver *net.Resolver) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // the metric asks for it
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: resolver}
	t.DialContext = dialer.DialContext
	return t
}

// New returns the client c describes.
func New(c Config) (*http.Client, error) {
	var rt http.RoundTripper = capTransport{next: secureTransport}
	if c.Insecure {
		rt = capTransport{next: insecureTransport}
	}
	if len(c.Headers) > 0 {
		rt = headers{headers: c.Headers, next: rt}
	}
	if b := c.BasicAuth; b.Username != "" || b.Password != "" {
		switch {
		case b.Username == "":
			return nil, errors.New("missing mandatory parameter in metric for basic auth setup: username")
		case b.Password == "":
			return nil, errors.New("missing mandatory parameter in metric for basic auth setup: password")
		}
		rt = basicAuth{username: b.Username, password: b.Password, next: rt}
	}
	if c.Wrap != nil {
		rt = c.Wrap(rt)
	}
	timeout, _ := LimitTimeout(c.Timeout)
	client := &http.Client{Transport: rt, Timeout: timeout}
	if o := c.OAuth2; o.TokenURL != "" {
		if o.ClientID == "" || o.ClientSecret == "" {
			return nil, errors.New("missing mandatory parameter in metric for OAuth2 setup")
		}
		cc := clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: o.TokenURL, Scopes: o.Scopes}
		return &http.Client{Transport: newTokenTransport(cc, client, rt), Timeout: timeout}, nil
	}
	return client, nil
}

// headers sets fixed headers on each request.
type headers struct {
	headers []v1alpha1.WebMetricHeader
	next    http.RoundTripper
}

func (h headers) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for _, kv := range h.headers {
		req.Header.Set(kv.Key, kv.Value)
	}
	return h.next.RoundTrip(req)
}

// basicAuth adds HTTP basic authentication to each request.
type basicAuth struct {
	username, password string
	next               http.RoundTripper
}

func (b basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.SetBasicAuth(b.username, b.password)
	return b.next.RoundTrip(req)
}

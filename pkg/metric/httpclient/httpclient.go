// Package httpclient builds the HTTP clients of HTTP-based metric providers
// (Prometheus, web): TLS verification, extra headers, basic auth and OAuth2
// client credentials, with Argo Rollouts' validation messages.
package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Config describes one provider's client.
type Config struct {
	// Insecure skips verification of the server's TLS certificate.
	Insecure bool
	// Timeout bounds each request, token requests included; 0 leaves it to
	// the request's context.
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

// Shared transports, so that measurements reuse connections.
var (
	secureTransport   = newTransport(false)
	insecureTransport = newTransport(true)
)

func newTransport(insecure bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // the metric asks for it
	return t
}

// New returns the client c describes.
func New(c Config) (*http.Client, error) {
	var rt http.RoundTripper = secureTransport
	if c.Insecure {
		rt = insecureTransport
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
	client := &http.Client{Transport: rt, Timeout: c.Timeout}
	if o := c.OAuth2; o.TokenURL != "" {
		if o.ClientID == "" || o.ClientSecret == "" {
			return nil, errors.New("missing mandatory parameter in metric for OAuth2 setup")
		}
		cc := clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: o.TokenURL, Scopes: o.Scopes}
		authed := cc.Client(context.WithValue(context.Background(), oauth2.HTTPClient, client))
		authed.Timeout = c.Timeout
		return authed, nil
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

package httpclient

import (
	"context"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenTransport authenticates each request with a client-credentials
// token. The token is fetched under the context of the request that needs
// it, so the request's deadline and cancellation bound the token request
// too, and it is reused until it expires. (x/oauth2's own transport fetches
// under the context the client was built with, which no measurement can
// cancel.)
type tokenTransport struct {
	config clientcredentials.Config
	// client sends the token request.
	client *http.Client
	next   http.RoundTripper
	// lock is held while the token is read or fetched; waiting for it
	// honours the waiting request's context.
	lock  chan struct{}
	token *oauth2.Token
}

func newTokenTransport(config clientcredentials.Config, client *http.Client, next http.RoundTripper) *tokenTransport {
	return &tokenTransport{config: config, client: client, next: next, lock: make(chan struct{}, 1)}
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	token, err := t.current(req.Context())
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("fetching the OAuth2 token: %w", err)
	}
	req = req.Clone(req.Context())
	token.SetAuthHeader(req)
	return t.next.RoundTrip(req)
}

// current returns the cached token while it is valid, else fetches one
// under ctx.
func (t *tokenTransport) current(ctx context.Context) (*oauth2.Token, error) {
	select {
	case t.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-t.lock }()
	if t.token.Valid() {
		return t.token, nil
	}
	token, err := t.config.Token(context.WithValue(ctx, oauth2.HTTPClient, t.client))
	if err != nil {
		return nil, err
	}
	t.token = token
	return token, nil
}

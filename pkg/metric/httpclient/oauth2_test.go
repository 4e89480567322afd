package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestOAuth2TokenIsFetchedOnceAndSent(t *testing.T) {
	var fetched atomic.Int32
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(token.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("Authorization"))
	}))
	t.Cleanup(api.Close)
	client, err := New(Config{OAuth2: v1alpha1.OAuth2Config{TokenURL: token.URL, ClientID: "id", ClientSecret: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		resp, err := Do(context.Background(), client, Request{URL: api.URL})
		if err != nil || string(resp.Body) != "Bearer tok-1" {
			t.Fatalf("request %d: %v %q", i, err, resp.Body)
		}
	}
	if n := fetched.Load(); n != 1 {
		t.Errorf("token fetched %d times, want once", n)
	}
}

// A token server that never answers holds a request only until the
// request's context ends, even with no client timeout at all.
func TestOAuth2TokenRequestHonoursTheContext(t *testing.T) {
	asked := make(chan struct{}, 1)
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server notices a closed connection once the body is read
		asked <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(token.Close)
	client, err := New(Config{OAuth2: v1alpha1.OAuth2Config{TokenURL: token.URL, ClientID: "id", ClientSecret: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/", nil)
		_, err := client.Do(req)
		done <- err
	}()
	<-asked
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "fetching the OAuth2 token") {
		t.Errorf("got %v, want the token fetch cancelled", err)
	}
}

// A request waiting for another one's token fetch gives up with its own
// context.
func TestOAuth2WaitForTheTokenHonoursTheContext(t *testing.T) {
	tt := newTokenTransport(clientcredentialsFor("http://token.test/"), http.DefaultClient, http.DefaultTransport)
	tt.lock <- struct{}{} // a fetch in progress
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tt.current(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// Name lookups run under the request's context: a DNS server that never
// answers holds a request only until its context ends.
func TestDNSLookupHonoursTheContext(t *testing.T) {
	dns, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dns.Close() })
	asked := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 512)
		if _, _, err := dns.ReadFrom(buf); err == nil {
			asked <- struct{}{}
		}
	}()
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dns.LocalAddr().String())
	}}
	client := &http.Client{Transport: newTransport(false, resolver)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Do(ctx, client, Request{URL: "http://metrics.serin-test.example/", Timeout: MaxTimeout})
		done <- err
	}()
	<-asked
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want the lookup cancelled", err)
	}
}

func TestNewRefusesIncompleteCredentials(t *testing.T) {
	for _, c := range []Config{
		{BasicAuth: v1alpha1.BasicAuthConfig{Username: "u"}},
		{BasicAuth: v1alpha1.BasicAuthConfig{Password: "p"}},
		{OAuth2: v1alpha1.OAuth2Config{TokenURL: "http://t", ClientID: "id"}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: no error", fmt.Sprint(c))
		}
	}
}

func clientcredentialsFor(tokenURL string) clientcredentials.Config {
	return clientcredentials.Config{ClientID: "id", ClientSecret: "secret", TokenURL: tokenURL}
}

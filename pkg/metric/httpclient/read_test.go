package httpclient

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadCapped(t *testing.T) {
	at := bytes.Repeat([]byte("a"), MaxResponseBytes)
	body, err := ReadCapped(bytes.NewReader(at))
	if err != nil || len(body) != MaxResponseBytes {
		t.Errorf("a body at the cap: %d bytes, %v; want all of it", len(body), err)
	}
	over := append(at, 'b')
	body, err = ReadCapped(bytes.NewReader(over))
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != MaxResponseBytes || len(body) != MaxResponseBytes {
		t.Errorf("a body over the cap: %d bytes, %v; want the first %d and a TooLargeError", len(body), err, MaxResponseBytes)
	}
	if err == nil || err.Error() != "response body exceeds 1048576 bytes" {
		t.Errorf("message %v", err)
	}
	boom := errors.New("boom")
	if _, err := ReadCapped(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("a failing reader: %v, want %v", err, boom)
	}
}

// The capping transport stops a body that a library reads itself, whether
// the server announces its length or streams it.
func TestCapTransport(t *testing.T) {
	big := strings.Repeat("x", MaxResponseBytes+1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/announced":
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			_, _ = io.WriteString(w, big)
		case "/streamed":
			w.(http.Flusher).Flush() // no Content-Length: chunked
			_, _ = io.WriteString(w, big)
		default:
			_, _ = io.WriteString(w, "small")
		}
	}))
	t.Cleanup(s.Close)
	client := &http.Client{Transport: capTransport{next: http.DefaultTransport}}
	if _, err := client.Get(s.URL + "/announced"); !IsTooLarge(err) {
		t.Errorf("announced: %v, want a TooLargeError", err)
	}
	resp, err := client.Get(s.URL + "/streamed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !IsTooLarge(err) {
		t.Errorf("streamed: %v, want a TooLargeError", err)
	}
	_ = resp.Body.Close()
	resp, err = client.Get(s.URL + "/small")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(resp.Body); err != nil || string(got) != "small" {
		t.Errorf("small: %q, %v", got, err)
	}
	_ = resp.Body.Close()
}

package httpclient

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxResponseBytes is the most of a response body a provider reads: 1 MiB.
// A metric answer worth judging is a few kilobytes; a bigger one is almost
// always a query that matched far more than intended, and its value could
// not be stored in an AnalysisRun anyway. Such a response ends the
// measurement in Error with a message naming this cap.
const MaxResponseBytes = 1 << 20

// TooLargeError reports a response body above its cap.
type TooLargeError struct {
	// Limit is the cap, in bytes.
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("response body exceeds %d bytes", e.Limit)
}

// IsTooLarge reports whether err is, or wraps, a *TooLargeError.
func IsTooLarge(err error) bool {
	var tl *TooLargeError
	return errors.As(err, &tl)
}

// ReadCapped reads r to its end. More than MaxResponseBytes is a
// *TooLargeError, returned with the first MaxResponseBytes bytes (enough for
// an error message to quote).
func ReadCapped(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxResponseBytes+1))
	if len(body) > MaxResponseBytes {
		return body[:MaxResponseBytes], &TooLargeError{Limit: MaxResponseBytes}
	}
	return body, err
}

// capTransport caps the body of every response it passes on, for clients
// whose responses are read by a library (the Prometheus client) rather than
// by ReadCapped. A response that announces a bigger body fails at once.
type capTransport struct {
	next http.RoundTripper
}

func (c capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > MaxResponseBytes {
		_ = resp.Body.Close()
		return nil, &TooLargeError{Limit: MaxResponseBytes}
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: MaxResponseBytes}
	return resp, nil
}

// cappedBody reads at most left more bytes of a body; a byte beyond them is
// a *TooLargeError.
type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.left == 0 {
		var probe [1]byte
		n, err := b.ReadCloser.Read(probe[:])
		if n > 0 {
			return 0, &TooLargeError{Limit: MaxResponseBytes}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

package httpclient

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDoSendsTheRequestAndReadsTheAnswer(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.Method+" "+r.Header.Get("X-Key")+" "+string(body)+" "+r.Header.Get("X-Signed"))
		_, _ = io.WriteString(w, "answer")
	}))
	t.Cleanup(s.Close)
	resp, err := Do(context.Background(), nil, Request{
		Method:  http.MethodPost,
		URL:     s.URL,
		Header:  map[string]string{"X-Key": "k"},
		Body:    []byte("payload"),
		Prepare: func(r *http.Request) error { r.Header.Set("X-Signed", "yes"); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-Echo"); got != "POST k payload yes" || string(resp.Body) != "answer" || resp.StatusCode != 200 {
		t.Errorf("got %d %q %q", resp.StatusCode, got, resp.Body)
	}
}

func TestDoErrors(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		if !strings.HasPrefix(r.URL.Path, "/ok") {
			status = http.StatusBadGateway
		}
		w.WriteHeader(status)
		if strings.HasSuffix(r.URL.Path, "big") {
			_, _ = io.WriteString(w, strings.Repeat("y", MaxResponseBytes+10))
			return
		}
		_, _ = io.WriteString(w, " upstream down ")
	}))
	t.Cleanup(s.Close)
	host := strings.TrimPrefix(s.URL, "http://")

	_, err := Do(context.Background(), nil, Request{URL: s.URL + "/bad"})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 502 || err.Error() != host+" answered 502: upstream down" {
		t.Errorf("a 502: %v", err)
	}
	_, err = Do(context.Background(), nil, Request{URL: s.URL + "/bad", Accept: func(code int) bool { return code == 502 }})
	if err != nil {
		t.Errorf("an accepted 502: %v", err)
	}
	_, err = Do(context.Background(), nil, Request{URL: s.URL + "/bad/big"})
	if !errors.As(err, &se) || se.StatusCode != 502 || len(se.Body) != MaxResponseBytes {
		t.Errorf("a 502 with a big body is still a status error: %v", err)
	}
	_, err = Do(context.Background(), nil, Request{URL: s.URL + "/ok/big"})
	if err == nil || err.Error() != "reading the answer of "+host+": response body exceeds 1048576 bytes" {
		t.Errorf("a 200 with a big body: %v", err)
	}
	_, err = Do(context.Background(), nil, Request{URL: "http://user:pass@127.0.0.1:1/x"})
	if err == nil || !strings.HasPrefix(err.Error(), "GET http://user:xxxxx@127.0.0.1:1/x: ") || strings.Contains(err.Error(), "pass") || strings.Contains(err.Error(), `"`) {
		t.Errorf("an unreachable server: %v", err)
	}
	_, err = Do(context.Background(), nil, Request{URL: "://"})
	if err == nil || !strings.HasPrefix(err.Error(), "building the request") {
		t.Errorf("a bad URL: %v", err)
	}
}

// deadlineOf records the deadline of the request it sees.
type deadlineOf struct{ got time.Time }

func (d *deadlineOf) RoundTrip(r *http.Request) (*http.Response, error) {
	d.got, _ = r.Context().Deadline()
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
}

func TestDoAlwaysHasADeadlineWithinTheCeiling(t *testing.T) {
	for _, timeout := range []time.Duration{0, time.Second, 10 * time.Hour, math.MaxInt64} {
		rt := &deadlineOf{}
		before := time.Now()
		if _, err := Do(context.Background(), &http.Client{Transport: rt}, Request{URL: "http://x.test/", Timeout: timeout}); err != nil {
			t.Fatal(err)
		}
		if rt.got.IsZero() || rt.got.Sub(before) > MaxTimeout+time.Second {
			t.Errorf("timeout %v: deadline %v after the call started, want one within %v", timeout, rt.got.Sub(before), MaxTimeout)
		}
	}
}

func TestLimitTimeout(t *testing.T) {
	if d, note := LimitTimeout(MaxTimeout); d != MaxTimeout || note != "" {
		t.Errorf("at the ceiling: %v %q", d, note)
	}
	if d, note := LimitTimeout(time.Hour); d != MaxTimeout || note != "timeout 1h0m0s is above the 5m0s ceiling; 5m0s is used" {
		t.Errorf("above the ceiling: %v %q", d, note)
	}
	if d, note := LimitSeconds(300); d != MaxTimeout || note != "" {
		t.Errorf("300s: %v %q", d, note)
	}
	if d, note := LimitSeconds(math.MaxInt64); d != MaxTimeout || !strings.HasPrefix(note, "timeout 9223372036854775807s is above") {
		t.Errorf("an overflowing number of seconds: %v %q", d, note)
	}
}

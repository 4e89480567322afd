package measure

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestTransportError(t *testing.T) {
	inner := errors.New("connection refused")
	wrapped := &url.Error{Op: "Get", URL: "http://example.test/api", Err: inner}
	got := TransportError(wrapped)
	if got != inner {
		t.Errorf("TransportError(%v) = %v, want %v", wrapped, got, inner)
	}
	if strings.Contains(got.Error(), "example.test") || strings.Contains(got.Error(), "Get") {
		t.Errorf("TransportError left the method or URL in %q", got)
	}
	plain := errors.New("plain")
	if got := TransportError(plain); got != plain {
		t.Errorf("TransportError(plain) = %v, want it unchanged", got)
	}
	if got := TransportError(nil); got != nil {
		t.Errorf("TransportError(nil) = %v, want nil", got)
	}
}

func TestSnippet(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"trimmed", "  \n oops \t\n", "oops"},
		{"empty", "", "(empty body)"},
		{"blank", " \n\t ", "(empty body)"},
		{"at limit", strings.Repeat("a", 512), strings.Repeat("a", 512)},
		{"over limit", strings.Repeat("b", 513), strings.Repeat("b", 512) + "..."},
		{"trimmed before truncation", "  " + strings.Repeat("c", 512) + "  ", strings.Repeat("c", 512)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Snippet([]byte(tc.body)); got != tc.want {
				t.Errorf("Snippet(%q) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

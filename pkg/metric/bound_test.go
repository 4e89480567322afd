package metric

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestSummarise(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		limit    int
		want     string
	}{
		{"fits", "0.99", 10, "0.99"},
		{"exactly fits", "abcdefghij", 10, "abcdefghij"},
		{"too long", strings.Repeat("a", 100), 30, strings.Repeat("a", 7) + "... [93 bytes dropped]"},
		{"cut between characters", strings.Repeat("é", 50), 30, strings.Repeat("é", 3) + "... [94 bytes dropped]"},
		{"invalid UTF-8 replaced", "a\xffb", 10, "a\uFFFDb"},
		{"limit below the marker", strings.Repeat("é", 50), 5, "éé"},
		{"no room at all", "abc", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Summarise(tc.in, tc.limit)
			if got != tc.want {
				t.Errorf("Summarise(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
			}
		})
	}
}

func FuzzSummarise(f *testing.F) {
	f.Add("0.99", 4096)
	f.Add(strings.Repeat("é", 3000), 4096)
	f.Add("a\xff\xfeb", 2)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit = max(0, limit%(2*len(s)+64))
		got := Summarise(s, limit)
		if len(got) > limit || !utf8.ValidString(got) {
			t.Fatalf("Summarise(%q, %d) = %q: %d bytes, valid UTF-8 %v", s, limit, got, len(got), utf8.ValidString(got))
		}
		valid := strings.ToValidUTF8(s, "\uFFFD")
		if len(valid) <= limit && got != valid {
			t.Fatalf("Summarise(%q, %d) = %q, want it whole", s, limit, got)
		}
		kept, marker, cut := strings.Cut(got, "... [")
		if len(valid) > limit && cut && marker != strconv.Itoa(len(valid)-len(kept))+" bytes dropped]" {
			t.Fatalf("Summarise(%q, %d) = %q miscounts what it dropped", s, limit, got)
		}
	})
}

func TestBound(t *testing.T) {
	long := strings.Repeat("x", MaxValueBytes+1)
	in := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseFailed, Value: long, Message: long, Metadata: map[string]string{"k": long, long: "v", "ok": "1"}}
	got := Bound(in)
	if len(got.Value) > MaxValueBytes || len(got.Message) > MaxValueBytes || got.Phase != v1alpha1.AnalysisPhaseFailed {
		t.Errorf("value %d bytes, message %d bytes, phase %s", len(got.Value), len(got.Message), got.Phase)
	}
	for k, v := range got.Metadata {
		if len(k) > MaxValueBytes || len(v) > MaxValueBytes {
			t.Errorf("metadata %d-byte key with a %d-byte value", len(k), len(v))
		}
	}
	if len(got.Metadata) != 3 || got.Metadata["ok"] != "1" {
		t.Errorf("metadata %d entries, ok=%q", len(got.Metadata), got.Metadata["ok"])
	}
	if in.Metadata["k"] != long {
		t.Error("Bound changed the caller's metadata")
	}
	small := map[string]string{"a": "b"}
	if got := BoundMap(small); fmt.Sprintf("%p", got) != fmt.Sprintf("%p", small) {
		t.Error("BoundMap copied a map that fits")
	}
	if BoundMap(nil) != nil {
		t.Error("BoundMap(nil) is not nil")
	}
}

func TestFormatList(t *testing.T) {
	called := 0
	item := func(i int) string { called++; return strconv.Itoa(i) }
	items := func(n int) string {
		out := make([]string, n)
		for i := range out {
			out[i] = strconv.Itoa(i)
		}
		return strings.Join(out, ",")
	}
	if got := FormatList(0, item); got != "[]" {
		t.Errorf("empty: %q", got)
	}
	if got := FormatList(3, item); got != "[0,1,2]" {
		t.Errorf("short: %q", got)
	}
	if got, want := FormatList(MaxListItems, item), "["+items(MaxListItems)+"]"; got != want {
		t.Errorf("at the limit: %q", got)
	}
	called = 0
	want := "[" + items(MaxListItems) + ",... 950 more, 1000 in all]"
	if got := FormatList(1000, item); got != want || called != MaxListItems {
		t.Errorf("long: %q with %d items formatted, want %q with %d", got, called, want, MaxListItems)
	}
}

package metric

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// What a measurement may store. An AnalysisRun keeps up to ten
// measurements per metric by default, and the whole object must fit in an
// etcd request (1.5 MiB by default): a status patch above it fails, and the
// metric is measured again every interval, forever. So whatever a provider
// returns, every text field of a measurement (and of a metric result's
// metadata) is bounded before it is stored:
//
//   - Value, Message, and each Metadata key and value are at most
//     MaxValueBytes; a longer one keeps its start and says how many bytes
//     were dropped (Summarise);
//   - providers write lists of values with FormatList, which shows the
//     first MaxListItems elements and counts the others.
//
// Conditions are not affected: they see the provider's whole result.
const (
	// MaxValueBytes caps each text field of a stored measurement: 4 KiB,
	// room for a JSON object or a hundred numbers, while ten measurements of
	// a few metrics stay far below etcd's limit.
	MaxValueBytes = 4 << 10
	// MaxListItems is how many elements of a list value FormatList shows.
	MaxListItems = 50
)

// Bound returns m with its Value, Message and Metadata within
// MaxValueBytes each, as valid UTF-8. The caller's Metadata map is not
// changed.
func Bound(m v1alpha1.Measurement) v1alpha1.Measurement {
	m.Value = Summarise(m.Value, MaxValueBytes)
	m.Message = Summarise(m.Message, MaxValueBytes)
	m.Metadata = BoundMap(m.Metadata)
	return m
}

// BoundMap returns in with every key and value within MaxValueBytes, as
// valid UTF-8: in itself when nothing needs cutting, otherwise a copy. A
// nil map stays nil.
func BoundMap(in map[string]string) map[string]string {
	fits := true
	for k, v := range in {
		if Summarise(k, MaxValueBytes) != k || Summarise(v, MaxValueBytes) != v {
			fits = false
			break
		}
	}
	if fits {
		return in
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[Summarise(k, MaxValueBytes)] = Summarise(v, MaxValueBytes)
	}
	return out
}

// Summarise returns s as valid UTF-8 (each invalid byte replaced with
// U+FFFD) within limit bytes: s itself when it fits, otherwise its start,
// cut between characters, followed by "... [N bytes dropped]". A limit too
// small for that marker gets the start alone.
func Summarise(s string, limit int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= limit {
		return s
	}
	// The marker for all of s is at least as long as the final one.
	keep := limit - len(droppedMarker(len(s)))
	if keep < 0 {
		return cutAtRune(s, max(limit, 0))
	}
	kept := cutAtRune(s, keep)
	return kept + droppedMarker(len(s)-len(kept))
}

// cutAtRune is the longest start of s within n bytes that ends between
// characters.
func cutAtRune(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func droppedMarker(n int) string {
	return fmt.Sprintf("... [%d bytes dropped]", n)
}

// FormatList writes a list of n items, item(i) being the text of the i-th,
// as "[a,b,c]". Of a list longer than MaxListItems only the first
// MaxListItems items are written (and item is called for those alone),
// followed by how many were left out: "[a,b,c,... 950 more, 1000 in all]".
func FormatList(n int, item func(i int) string) string {
	shown := make([]string, min(n, MaxListItems))
	for i := range shown {
		shown[i] = item(i)
	}
	if n <= MaxListItems {
		return "[" + strings.Join(shown, ",") + "]"
	}
	return fmt.Sprintf("[%s,... %d more, %d in all]", strings.Join(shown, ","), n-MaxListItems, n)
}

package tolerant

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// What decoding one Rollout costs the informer, next to decoding the same
// JSON straight into the Go type (what a typed informer does):
//
//	go test ./pkg/tolerant -run '^$' -bench . -benchmem
func BenchmarkConvertWellFormedRollout(b *testing.B) {
	benchmarkConvert(b, strings.Replace(malformedRollout, "memory: invalid", "memory: 64Mi", 1))
}

func BenchmarkConvertMalformedRollout(b *testing.B) {
	benchmarkConvert(b, malformedRollout)
}

func BenchmarkTypedJSONDecodeRollout(b *testing.B) {
	u := objectB(b, strings.Replace(malformedRollout, "memory: invalid", "memory: 64Mi", 1))
	data, err := json.Marshal(u)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var ro v1alpha1.Rollout
		if err := json.Unmarshal(data, &ro); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkConvert(b *testing.B, manifest string) {
	data, err := json.Marshal(objectB(b, manifest))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		// The informer receives a fresh map per object, decoded from JSON.
		var u map[string]any
		if err := json.Unmarshal(data, &u); err != nil {
			b.Fatal(err)
		}
		if _, _, err := Convert[v1alpha1.Rollout](u); err != nil {
			b.Fatal(err)
		}
	}
}

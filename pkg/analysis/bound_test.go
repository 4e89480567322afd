package analysis

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
)

// verbose is a provider whose measurements carry megabytes of text, as a
// web metric pointed at a big document used to.
type verbose struct{ metric.Provider }

const megabytes = 3_400_000

func (verbose) Run(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric) v1alpha1.Measurement {
	return v1alpha1.Measurement{
		Phase:    v1alpha1.AnalysisPhaseSuccessful,
		Value:    strings.Repeat("é", megabytes/2),
		Message:  strings.Repeat("m", megabytes),
		Metadata: map[string]string{"body": strings.Repeat("b", megabytes)},
	}
}

func (verbose) Metadata(v1alpha1.Metric) map[string]string {
	return map[string]string{"query": strings.Repeat("q", megabytes)}
}

// Whatever a provider returns, what the run stores is bounded, so the
// status patch fits in etcd and the metric is not measured again and again.
func TestStoredMeasurementsAreBounded(t *testing.T) {
	f := newFixture(t, promRun("http://127.0.0.1:1"))
	f.factory.fn = func(v1alpha1.Metric) (metric.Provider, error) { return verbose{}, nil }
	f.reconcile()
	r := f.run().Status.MetricResults[0]
	m := r.Measurements[0]
	for name, s := range map[string]string{"value": m.Value, "message": m.Message, "measurement metadata": m.Metadata["body"], "result metadata": r.Metadata["query"]} {
		if len(s) > metric.MaxValueBytes || !utf8.ValidString(s) || !strings.HasSuffix(s, "bytes dropped]") {
			t.Errorf("%s: %d bytes ending %q, want at most %d, valid UTF-8, with the dropped bytes counted", name, len(s), s[max(0, len(s)-40):], metric.MaxValueBytes)
		}
	}
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Errorf("phase %s", m.Phase)
	}
}

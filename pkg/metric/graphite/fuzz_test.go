package graphite

import (
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzParseRender feeds render answers to the parser and the condition: no
// panic, a storable measurement, at most metric.MaxListItems values shown.
func FuzzParseRender(f *testing.F) {
	f.Add([]byte(`[{"target":"a","tags":{"name":"x"},"datapoints":[[95.5,1772366100],[null,1772366160],["97.25",1772366220]]}]`))
	f.Add([]byte(`[{"target":"a","datapoints":[[null,1772366100]]}]`))
	f.Add([]byte(`[{"target":"a","datapoints":[[1]]}]`))
	f.Add([]byte(`[]`))
	m := v1alpha1.Metric{SuccessCondition: "result[0] >= 90"}
	f.Fuzz(func(t *testing.T, body []byte) {
		values, shown, err := parseRender(body)
		phase := v1alpha1.AnalysisPhaseError
		if err == nil {
			if strings.Count(shown, ",") > metric.MaxListItems+1 {
				t.Fatalf("%d values shown: %q", strings.Count(shown, ","), shown)
			}
			phase, err = metric.Evaluate(values, m)
		}
		metrictest.WantStorable(t, metrictest.Outcome(phase, shown, err))
	})
}

package datadog

import (
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzParse feeds v1 and v2 query answers to their parsers and the
// condition: no panic, a storable measurement.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"status":"ok","series":[{"metric":"errors","pointlist":[[1772366100000.0,0.5],[1772366160000.0,0.0625]]}]}`), false)
	f.Add([]byte(`{"series":[{"pointlist":[[1772366100000.0,null]]}]}`), false)
	f.Add([]byte(`{"data":{"attributes":{"columns":[{"name":"host","type":"group","values":[["h1"],["h2"]]},{"name":"q","type":"number","values":[0.02,null]}]}}}`), true)
	f.Add([]byte(`{"data":{"attributes":{"columns":[{"name":"q","values":[0.5]}]},"errors":""},"errors":["bad query"]}`), true)
	m := v1alpha1.Metric{SuccessCondition: "default(result, 0) < 0.1"}
	f.Fuzz(func(t *testing.T, body []byte, v2 bool) {
		cfg := config{version: "v1"}
		if v2 {
			cfg.version = "v2"
		}
		r, err := parse(cfg, body)
		phase := v1alpha1.AnalysisPhaseError
		if err == nil {
			phase, err = metric.Evaluate(r.typed, m)
		}
		out := metrictest.Outcome(phase, r.value, err)
		out.Metadata = r.metadata
		metrictest.WantStorable(t, out)
	})
}

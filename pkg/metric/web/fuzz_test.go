package web

import (
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzSelectValue feeds response bodies and JSONPaths to the selection and
// the condition: no panic, a storable measurement.
func FuzzSelectValue(f *testing.F) {
	f.Add([]byte(`{"successful":true,"rate":0.99}`), "")
	f.Add([]byte(`{"data":{"ok":true,"rate":0.8}}`), "{$.data.rate}")
	f.Add([]byte(`{"items":[{"v":1},{"v":2}]}`), "{$.items[*].v}")
	f.Add([]byte(`OK`), "{$.a}")
	f.Add([]byte(`[1,2,3]`), "{$[-1:]}")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		m := webMetric("http://metrics.test/", func(w *v1alpha1.WebMetric) { w.JSONPath = path })
		m.SuccessCondition = "result == true || asFloat(result) > 0.9"
		p, err := New(m)
		if err != nil {
			return // a JSONPath that does not parse is refused before any request
		}
		value, shown, err := p.selectValue(body)
		phase := v1alpha1.AnalysisPhaseError
		if err == nil {
			phase, err = metric.Evaluate(value, m)
		}
		metrictest.WantStorable(t, metrictest.Outcome(phase, shown, err))
	})
}

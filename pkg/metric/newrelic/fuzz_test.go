package newrelic

import (
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzNRQLAnswer feeds NerdGraph answers to the parser and the condition:
// no panic, a storable measurement.
func FuzzNRQLAnswer(f *testing.F) {
	f.Add([]byte(`{"data":{"actor":{"account":{"nrql":{"results":[{"successRate":99.5,"count":1200}]}}}}}`))
	f.Add([]byte(`{"data":{"actor":{"account":{"nrql":{"results":[{"facet":"a","average.duration":0.2},{"facet":"b"}]}}}}}`))
	f.Add([]byte(`{"data":null,"errors":[{"message":"NRQL Syntax Error"}]}`))
	f.Add([]byte(`{"data":{"actor":{"account":{"nrql":{"results":[{}]}}}}}`))
	m := v1alpha1.Metric{SuccessCondition: "result.successRate >= 0.95"}
	f.Fuzz(func(t *testing.T, body []byte) {
		var value string
		rows, err := nrqlRows(body)
		if err == nil {
			var typed any
			typed, value, err = conditionInput(rows)
			if err == nil {
				var phase v1alpha1.AnalysisPhase
				phase, err = metric.Evaluate(typed, m)
				metrictest.WantStorable(t, metrictest.Outcome(phase, value, err))
				return
			}
		}
		metrictest.WantStorable(t, metrictest.Outcome("", value, err))
	})
}

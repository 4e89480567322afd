package skywalking

import (
	"encoding/json"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzQueryData feeds GraphQL answers to the parser and the condition: no
// panic, a storable measurement.
func FuzzQueryData(f *testing.F) {
	f.Add([]byte(`{"data":{"service_apdex":{"values":{"values":[{"id":"1","value":{"value":9500}}]}}}}`))
	f.Add([]byte(`{"errors":[{"message":"FieldUndefined"}],"data":null}`))
	f.Add([]byte(`{"data":null}`))
	m := v1alpha1.Metric{SuccessCondition: "all(result.service_apdex.values.values, {asFloat(.value.value) >= 9000})"}
	f.Fuzz(func(t *testing.T, body []byte) {
		data, err := queryData(body, "oap")
		if err != nil {
			metrictest.WantStorable(t, metrictest.Outcome("", "", err))
			return
		}
		raw, err := json.Marshal(data)
		if err != nil {
			t.Fatalf("the data read from %q cannot be written back: %v", body, err)
		}
		phase, err := metric.Evaluate(data, m)
		metrictest.WantStorable(t, metrictest.Outcome(phase, string(raw), err))
	})
}

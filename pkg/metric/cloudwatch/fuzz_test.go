package cloudwatch

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzParseOutput feeds GetMetricData answers (and error documents) to the
// parsers and the condition: no panic, a storable measurement.
func FuzzParseOutput(f *testing.F) {
	f.Add([]byte(exampleAnswer))
	f.Add([]byte(`{"MetricDataResults":[{"Id":"a","StatusCode":"PartialData","Timestamps":[1772366100.5,"2026-03-01T12:00:00Z"],"Values":[],"Messages":[{"Code":"MaxDatapointsExceeded","Value":"too many"}]}],"Messages":[{"Code":"Warning"}],"NextToken":"tok"}`))
	f.Add([]byte(`{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"User is not authorized"}`))
	m := cwMetric("")
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = apiError(http.Header{}, body)
		results, values, messages, err := parseOutput(body)
		phase := v1alpha1.AnalysisPhaseError
		if err == nil {
			phase, err = metric.Evaluate(results, m)
		}
		out := metrictest.Outcome(phase, fmt.Sprintf("%+v", values), err)
		if messages != "" {
			out.Metadata = map[string]string{"messages": messages}
		}
		metrictest.WantStorable(t, out)
	})
}

package wavefront

import (
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzParseChart feeds chart answers and measurement times to the parser
// and the condition: no panic, a storable measurement.
func FuzzParseChart(f *testing.F) {
	f.Add([]byte(`{"name":"q","timeseries":[{"label":"a","host":"h","data":[[1772366280,0.9],[1772366380,0.97],[1772366399,null]]}]}`), int64(1772366400))
	f.Add([]byte(`{"warnings":"query was slow","timeseries":[{"label":"a","data":[[1772366370,1.234]]},{"label":"b","data":[[1772366405,2]]}]}`), int64(1772366400))
	f.Add([]byte(`{"timeseries":[{"label":"a","data":[[null,1]]}]}`), int64(0))
	f.Add([]byte(`{"timeseries":[{"label":"a","data":[[1e300,1]]}]}`), int64(-9223372036854775808))
	m := v1alpha1.Metric{SuccessCondition: "result >= 0.95"}
	f.Fuzz(func(t *testing.T, body []byte, at int64) {
		pts, warnings, err := parseChart(body, at)
		var out v1alpha1.Measurement
		if warnings != "" {
			out.Metadata = map[string]string{"warnings": warnings}
		}
		if err != nil {
			metrictest.WantStorable(t, metric.MarkError(out, err))
			return
		}
		typed := pts.record(&out)
		out.Phase, err = metric.Evaluate(typed, m)
		if err != nil {
			out = metric.MarkError(out, err)
		}
		metrictest.WantStorable(t, out)
	})
}

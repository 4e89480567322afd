package influxdb

import (
	"fmt"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzParseValues feeds annotated CSV answers (and error documents) to the
// parsers and the condition: no panic, a storable measurement.
func FuzzParseValues(f *testing.F) {
	f.Add([]byte(twoTables))
	f.Add([]byte("#datatype,string,long,string,string\r\n#group,true,true,true,true\r\n#default,,,,\r\n,result,table,error,reference\r\n,,0,bucket not found,897\r\n"))
	f.Add([]byte("#datatype,string,base64Binary,duration,boolean,unsignedLong,dateTime:RFC3339Nano\r\n#default,,,,,,\r\n,_value,b,d,x,u,t\r\n,,AA==,1s,true,1,2026-03-01T11:55:00.5Z\r\n"))
	f.Add([]byte(`{"code":"invalid","message":"compilation failed"}`))
	m := v1alpha1.Metric{SuccessCondition: "result[0] <= 0.01"}
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = apiError(body)
		values, err := parseValues(body)
		phase := v1alpha1.AnalysisPhaseError
		if err == nil {
			phase, err = metric.Evaluate(values, m)
		}
		metrictest.WantStorable(t, metrictest.Outcome(phase, fmt.Sprint(values), err))
	})
}

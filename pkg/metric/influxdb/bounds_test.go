package influxdb

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	body := metrictest.Padded("#datatype,string,long,double\r\n#group,false,false,false\r\n#default,_result,,\r\n,result,table,_value\r\n", ",,0,0.5", "\r\n", "\r\n")
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body)
	})
	metrictest.WantTooLarge(t, p.Run(context.Background(), nil, m), rec)
}

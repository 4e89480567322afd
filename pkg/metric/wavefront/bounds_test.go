package wavefront

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	body := metrictest.Padded(`{"timeseries":[`, `{"label":"l","data":[[1772366400,0.5]]}`, ",", `]}`)
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body)
	})
	metrictest.WantTooLarge(t, p.Run(context.Background(), nil, m), rec)
}

// Many series are recorded, values, times and drifts alike, as the first
// ones and a count; the condition sees them all.
func TestManySeriesAreSummarised(t *testing.T) {
	now := fixedNow.Unix()
	series := make([]string, 1000)
	for i := range series {
		series[i] = fmt.Sprintf(`{"label":"s%d","data":[[%d,1]]}`, i, now)
	}
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"timeseries":[`+strings.Join(series, ",")+`]}`)
	})
	out := p.Run(context.Background(), nil, m)
	list := func(item string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+",", metric.MaxListItems), ",") + ",... 950 more, 1000 in all]"
	}
	if out.Value != list("1.00") || out.Metadata["timestamps"] != list(fmt.Sprint(now)) || out.Metadata["drift"] != list("0") {
		t.Errorf("value %q, metadata %v", out.Value, out.Metadata)
	}
	if got, ok := rec.Got.([]float64); !ok || len(got) != 1000 {
		t.Errorf("evaluated %d values, want 1000", len(got))
	}
}

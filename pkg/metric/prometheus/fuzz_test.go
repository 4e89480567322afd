package prometheus

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzQueryAnswer feeds query answers, through the Prometheus client that
// decodes them, to convert and the condition: no panic, a storable
// measurement, at most metric.MaxListItems values shown.
func FuzzQueryAnswer(f *testing.F) {
	for _, body := range []string{vector99, vectorTwo, vectorEmpty, vectorNaN, scalar, matrix, withWarning, badData,
		`{"status":"success","data":{"resultType":"string","result":[1767268800,"x"]}}`} {
		f.Add([]byte(body))
	}
	m := metricFor("http://prometheus.test", "up", "result[0] >= 0.95")
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := api.NewClient(api.Config{Address: "http://prometheus.test", Client: metrictest.Answer(body)})
		if err != nil {
			t.Fatal(err)
		}
		p := &Provider{api: promv1.NewAPI(c), timeout: DefaultTimeout, clock: clocktesting.NewFakePassiveClock(now)}
		out := p.Run(context.Background(), &v1alpha1.AnalysisRun{}, m)
		if strings.HasPrefix(out.Value, "[") && strings.Count(out.Value, ",") > metric.MaxListItems+1 {
			t.Fatalf("%d values shown: %q", strings.Count(out.Value, ","), out.Value)
		}
		metrictest.WantStorable(t, out)
	})
}

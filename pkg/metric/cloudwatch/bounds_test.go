package cloudwatch

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	body := metrictest.Padded(`{"MetricDataResults":[{"Id":"rate","StatusCode":"Complete","Values":[`, `0.001`, ",", `]}]}`)
	rec := &metrictest.Evaluator{}
	p := setup(t, rec.Evaluate, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) })
	metrictest.WantTooLarge(t, p.Run(context.Background(), nil, cwMetric("")), rec)
}

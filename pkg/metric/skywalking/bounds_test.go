package skywalking

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	body := metrictest.Padded(`{"data":{"values":[`, `{"id":"svc","value":95}`, ",", `]}}`)
	rec := &metrictest.Evaluator{}
	p, m := setup(t, rec, "", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body)
	})
	metrictest.WantTooLarge(t, p.Run(context.Background(), nil, m), rec)
}

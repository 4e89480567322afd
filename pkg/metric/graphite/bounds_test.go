package graphite

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

func TestAnAnswerAboveTheCapIsAnError(t *testing.T) {
	body := metrictest.Padded(`[{"target":"a","datapoints":[`, `[1,1772366100]`, ",", `]}]`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	rec := &metrictest.Evaluator{}
	m := New(nil, rec.Evaluate).Run(context.Background(), nil, gMetric(srv.URL, "target=a"))
	metrictest.WantTooLarge(t, m, rec)
}

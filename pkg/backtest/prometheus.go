package backtest

import (
	"context"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/prometheus"
)

// at is a clock stopped at one instant.
type at time.Time

func (a at) Now() time.Time                  { return time.Time(a) }
func (a at) Since(t time.Time) time.Duration { return time.Time(a).Sub(t) }

// PrometheusMeasurer measures with Serin's Prometheus provider, its clock
// set to the measurement's time: an instant query is evaluated by
// Prometheus at that time (a point of the range the run would have seen),
// and a rangeQuery's start and end expressions are relative to it. The
// provider's conversion and condition evaluation are the controller's.
// defaultAddress stands in for ARGO_ROLLOUTS_PROMETHEUS_ADDRESS.
func PrometheusMeasurer(defaultAddress string) Measurer {
	return func(ctx context.Context, m v1alpha1.Metric, t time.Time) v1alpha1.Measurement {
		p, err := prometheus.New(m, prometheus.Options{DefaultAddress: defaultAddress, Clock: at(t)})
		if err != nil {
			return metric.MarkError(v1alpha1.Measurement{}, err)
		}
		return p.Run(ctx, nil, m)
	}
}

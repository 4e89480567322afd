package controllermetrics

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// A lister that fails reports no series for its kind, and the other
// collectors in the same registry are still scraped.
func TestAFailingListerReportsNothingAndTheScrapeGoesOn(t *testing.T) {
	broken := listCollector[*v1alpha1.Experiment]{
		kind:  "Experiment",
		descs: []*prometheus.Desc{experimentInfoDesc, experimentPhaseDesc},
		list: func(labels.Selector) ([]*v1alpha1.Experiment, error) {
			return nil, errors.New("cache not synced")
		},
		collect: collectExperiment,
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(broken, NewRolloutCollector(oneRollout(t)))
	if n, err := testutil.GatherAndCount(reg, "experiment_info", "experiment_phase"); err != nil || n != 0 {
		t.Errorf("experiment series = %d (err %v), want none", n, err)
	}
	if n, err := testutil.GatherAndCount(reg, "rollout_info"); err != nil || n != 1 {
		t.Errorf("rollout_info series = %d (err %v), want 1", n, err)
	}
}

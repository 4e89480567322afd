package plan

import (
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestInvalidRuns(t *testing.T) {
	unresolved := newMetric("m")
	unresolved.SuccessCondition = "result > {{args.threshold}}"
	tooFew := newMetric("m", count(2))
	tests := map[string]struct {
		run  *v1alpha1.AnalysisRun
		want string
	}{
		"an unknown argument placeholder": {run: newRun(unresolved), want: "Unable to resolve metric arguments: failed to resolve {{args.threshold}}"},
		"an argument without a value": {
			run: func() *v1alpha1.AnalysisRun {
				r := newRun(newMetric("m"))
				r.Spec.Args = []v1alpha1.Argument{{Name: "x"}}
				return r
			}(),
			want: `Unable to resolve metric arguments: argument "x" was not supplied`,
		},
		"count above one without interval": {run: newRun(tooFew), want: "Analysis spec invalid: metrics[0]: interval must be specified when count > 1"},
		"no metrics":                       {run: newRun(), want: "Analysis spec invalid: no metrics specified"},
		"duplicate metric names":           {run: newRun(newMetric("m"), newMetric("m")), want: "Analysis spec invalid: metrics[1]: duplicate name 'm'"},
		"no provider": {
			run:  newRun(v1alpha1.Metric{Name: "m"}),
			want: "Analysis spec invalid: metrics[0]: no provider specified",
		},
		"both limits disabled": {
			run:  newRun(newMetric("m", failureLimit(-1))),
			want: "Analysis spec invalid: metrics[0]: failureLimit and consecutiveSuccessLimit cannot both be disabled",
		},
		"a dry-run rule matching nothing": {
			run: func() *v1alpha1.AnalysisRun {
				r := newRun(newMetric("m"))
				r.Spec.DryRun = []v1alpha1.DryRun{{MetricName: "other"}}
				return r
			}(),
			want: "Analysis spec invalid: dryRun[0]: Rule didn't match any metric name(s)",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := newSim(t, tt.run, nil)
			s.reconcile()
			st := s.run.Status
			if st.Phase != E || st.Message != tt.want || st.CompletedAt == nil {
				t.Errorf("status %s %q (completedAt %v), want Error %q", st.Phase, st.Message, st.CompletedAt, tt.want)
			}
			if len(s.events) != 1 || s.events[0].Reason != "AnalysisRunError" || !s.events[0].Warning {
				t.Errorf("events %+v", s.events)
			}
		})
	}
	t.Run("secret arguments are placeholders while scheduling", func(t *testing.T) {
		m := newMetric("m")
		m.Provider.Prometheus.Query = `up{token="{{args.token}}"}`
		run := newRun(m)
		run.Spec.Args = []v1alpha1.Argument{{Name: "token", ValueFrom: &v1alpha1.ValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "s", Key: "k"}}}}
		sched := Schedule(State{Run: run, Now: t0})
		if sched.Invalid != "" || len(sched.Tasks) != 1 {
			t.Fatalf("%+v", sched)
		}
		if q := sched.Tasks[0].Metric.Provider.Prometheus.Query; !strings.Contains(q, "{{args.token}}") {
			t.Errorf("task metric should keep its placeholders for the reconciler, got %q", q)
		}
	})
	t.Run("an argument error at measurement time ends the run in Error", func(t *testing.T) {
		run := newRun(newMetric("m"))
		st := State{Run: run, Now: t0}
		p := Compute(st, Schedule(st), Measured{ArgsError: "key 'k' does not exist in secret 's'", Now: t0})
		if p.Status.Phase != E || p.Status.Message != "Unable to resolve metric arguments: key 'k' does not exist in secret 's'" {
			t.Fatalf("%+v", p.Status)
		}
	})
}

package metric

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func str(s string) *string { return &s }

func TestResolveArgs(t *testing.T) {
	count := intstr.FromString("{{args.count}}")
	m := v1alpha1.Metric{
		Name:             "rate",
		Count:            &count,
		SuccessCondition: "result[0] >= {{ args.threshold }}",
		Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{
			Query: `sum(rate(x{service="{{args.service}}"}[5m]))`,
		}},
	}
	got, err := ResolveArgs(m, []v1alpha1.Argument{
		{Name: "count", Value: str("3")},
		{Name: "threshold", Value: str("0.95")},
		{Name: "service", Value: str("a\"b\nc")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Count.IntValue() != 3 {
		t.Errorf("count = %v", got.Count)
	}
	if got.SuccessCondition != "result[0] >= 0.95" {
		t.Errorf("successCondition = %q", got.SuccessCondition)
	}
	if want := "sum(rate(x{service=\"a\"b\nc\"}[5m]))"; got.Provider.Prometheus.Query != want {
		t.Errorf("query = %q, want %q", got.Provider.Prometheus.Query, want)
	}
	if m.Provider.Prometheus.Query == got.Provider.Prometheus.Query {
		t.Error("the input metric was changed")
	}
}

func TestResolveArgsErrors(t *testing.T) {
	m := v1alpha1.Metric{Name: "m", SuccessCondition: "result > {{args.missing}}"}
	if _, err := ResolveArgs(m, nil); err == nil || err.Error() != "failed to resolve {{args.missing}}" {
		t.Errorf("unknown placeholder: %v", err)
	}
	if _, err := ResolveArgs(v1alpha1.Metric{Name: "m"}, []v1alpha1.Argument{{Name: "x"}}); err == nil || err.Error() != `argument "x" was not supplied` {
		t.Errorf("argument without value: %v", err)
	}
	if _, err := substitute("a {{args.x", nil); err == nil || !strings.Contains(err.Error(), "end tag") {
		t.Errorf("unterminated placeholder: %v", err)
	}
}

func TestSubstituteFillsEveryKnownPlaceholder(t *testing.T) {
	got, err := Substitute("{{ templates.canary.podTemplateHash }}/{{x}}", map[string]string{"templates.canary.podTemplateHash": "abc", "x": "y"})
	if err != nil || got != "abc/y" {
		t.Errorf("Substitute = %q, %v; want %q, nil", got, err, "abc/y")
	}
	if _, err := Substitute("{{nope}}", nil); err == nil || err.Error() != "failed to resolve {{nope}}" {
		t.Errorf("unknown placeholder: err = %v", err)
	}
}

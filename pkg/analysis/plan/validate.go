package plan

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
)

// secretPlaceholder stands in for secret arguments while the run is
// validated and scheduled; real values are read only at measurement time.
const secretPlaceholder = "temp-for-secret"

// resolveWithoutSecrets substitutes the run's arguments into its metrics,
// with a placeholder for every argument that comes from a Secret.
func resolveWithoutSecrets(metrics []v1alpha1.Metric, args []v1alpha1.Argument) ([]v1alpha1.Metric, error) {
	plain := make([]v1alpha1.Argument, len(args))
	for i, a := range args {
		plain[i] = *a.DeepCopy()
		if a.ValueFrom != nil && a.ValueFrom.SecretKeyRef != nil {
			v := secretPlaceholder
			plain[i].Value, plain[i].ValueFrom = &v, nil
		}
	}
	out := make([]v1alpha1.Metric, 0, len(metrics))
	for _, m := range metrics {
		r, err := metric.ResolveArgs(m, plain)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ValidateMetrics checks a run's metrics (after argument substitution) the
// way Argo Rollouts does before measuring anything.
func ValidateMetrics(metrics []v1alpha1.Metric) error {
	if len(metrics) == 0 {
		return errors.New("no metrics specified")
	}
	seen := map[string]bool{}
	for i, m := range metrics {
		if seen[m.Name] {
			return fmt.Errorf("metrics[%d]: duplicate name '%s'", i, m.Name)
		}
		seen[m.Name] = true
		if err := ValidateMetric(m); err != nil {
			return fmt.Errorf("metrics[%d]: %v", i, err)
		}
	}
	return nil
}

// ValidateMetric checks one metric's limits, count, durations and provider.
func ValidateMetric(m v1alpha1.Metric) error {
	count := intValue(m.Count, 0)
	failureLimit := intValue(m.FailureLimit, 0)
	successLimit := intValue(m.ConsecutiveSuccessLimit, 0)
	inconclusiveLimit := intValue(m.InconclusiveLimit, 0)
	switch {
	case successLimit < 0:
		return errors.New("consecutiveSuccessLimit must be >= 0")
	case failureLimit < -1:
		return errors.New("failureLimit must be >= 0, or -1 to be disabled")
	case successLimit == 0 && failureLimit == -1:
		return errors.New("failureLimit and consecutiveSuccessLimit cannot both be disabled")
	case inconclusiveLimit < 0:
		return errors.New("inconclusiveLimit must be >= 0")
	case intValue(m.ConsecutiveErrorLimit, 0) < 0:
		return errors.New("consecutiveErrorLimit must be >= 0")
	}
	if count > 0 {
		if failureLimit >= 0 && count < failureLimit+successLimit {
			return fmt.Errorf("count (%d) must be >= failureLimit + consecutiveSuccessLimit (%d + %d) if both >= 0", count, failureLimit, successLimit)
		}
		if failureLimit < 0 && count < successLimit {
			return errors.New("count must be >= consecutiveSuccessLimit")
		}
		if count < inconclusiveLimit {
			return errors.New("count must be >= inconclusiveLimit")
		}
	}
	if count > 1 && m.Interval == "" {
		return errors.New("interval must be specified when count > 1")
	}
	if m.Interval != "" {
		if _, err := m.Interval.Duration(); err != nil {
			return fmt.Errorf("invalid interval string: %v", err)
		}
	}
	if m.InitialDelay != "" {
		if _, err := m.InitialDelay.Duration(); err != nil {
			return fmt.Errorf("invalid startDelay string: %v", err)
		}
	}
	switch n := providerCount(m.Provider); {
	case n == 0:
		return errors.New("no provider specified")
	case n > 1:
		return errors.New("multiple providers specified")
	}
	return nil
}

func providerCount(p v1alpha1.MetricProvider) int {
	n := len(p.Plugin)
	for _, set := range []bool{
		p.Prometheus != nil, p.Job != nil, p.Web != nil, p.Wavefront != nil, p.Kayenta != nil, p.Datadog != nil,
		p.NewRelic != nil, p.CloudWatch != nil, p.Graphite != nil, p.Influxdb != nil, p.SkyWalking != nil,
	} {
		if set {
			n++
		}
	}
	return n
}

// dryRunMetrics returns the metrics that the dryRun rules select. Each rule
// is an unanchored regular expression and must select at least one metric.
func dryRunMetrics(rules []v1alpha1.DryRun, metrics []v1alpha1.Metric) (map[string]bool, error) {
	selected := map[string]bool{}
	for i, rule := range rules {
		names := matching(rule.MetricName, metrics)
		if len(names) == 0 {
			return nil, fmt.Errorf("dryRun[%d]: Rule didn't match any metric name(s)", i)
		}
		for _, n := range names {
			selected[n] = true
		}
	}
	return selected, nil
}

// retentionLimits returns, per metric, the limit of the last
// measurementRetention rule selecting it. Each rule must select a metric.
func retentionLimits(rules []v1alpha1.MeasurementRetention, metrics []v1alpha1.Metric) (map[string]int, error) {
	limits := map[string]int{}
	for i, rule := range rules {
		names := matching(rule.MetricName, metrics)
		if len(names) == 0 {
			return nil, fmt.Errorf("measurementRetention[%d]: Rule didn't match any metric name(s)", i)
		}
		for _, n := range names {
			limits[n] = int(rule.Limit)
		}
	}
	return limits, nil
}

// matching returns the names of the metrics that pattern matches anywhere
// in the name. An invalid pattern matches nothing.
func matching(pattern string, metrics []v1alpha1.Metric) []string {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil
	}
	var names []string
	for _, m := range metrics {
		if re.MatchString(m.Name) {
			names = append(names, m.Name)
		}
	}
	return names
}

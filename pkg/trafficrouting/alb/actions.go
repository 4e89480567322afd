package alb

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// The annotation values below are read by the AWS Load Balancer Controller
// and compared by GitOps tools: their JSON must be exactly what Argo
// Rollouts writes (field names, field order, no spaces), so they are
// rendered from these structs with encoding/json and nothing else.

// action is the value of an actions.<name> annotation.
type action struct {
	Type          string        `json:"Type"`
	ForwardConfig forwardConfig `json:"ForwardConfig"`
}

type forwardConfig struct {
	TargetGroups                []targetGroup `json:"TargetGroups"`
	TargetGroupStickinessConfig *stickiness   `json:"TargetGroupStickinessConfig,omitempty"`
}

type targetGroup struct {
	ServiceName string `json:"ServiceName,omitempty"`
	ServicePort string `json:"ServicePort,omitempty"`
	Weight      *int64 `json:"Weight,omitempty"`
}

type stickiness struct {
	Enabled         bool  `json:"Enabled"`
	DurationSeconds int64 `json:"DurationSeconds"`
}

// condition is one entry of a conditions.<name> annotation.
type condition struct {
	Field            string       `json:"field"`
	HTTPHeaderConfig headerConfig `json:"httpHeaderConfig"`
}

type headerConfig struct {
	HTTPHeaderName string   `json:"httpHeaderName"`
	Values         []string `json:"values"`
}

// maxStickinessSeconds is the longest target-group stickiness ELBv2
// accepts (7 days).
const maxStickinessSeconds = 604800

func stickinessOf(cfg *v1alpha1.ALBTrafficRouting) (*stickiness, error) {
	s := cfg.StickinessConfig
	if s == nil || !s.Enabled {
		return nil, nil
	}
	if s.DurationSeconds < 1 || s.DurationSeconds > maxStickinessSeconds {
		return nil, fmt.Errorf("TargetGroupStickinessConfig's duration must be between 1 and 604800 seconds (7 days)!")
	}
	return &stickiness{Enabled: true, DurationSeconds: s.DurationSeconds}, nil
}

func render(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// weightedTarget is one Service and its share of the forward action.
type weightedTarget struct {
	service string
	weight  int32
}

// forwardAction renders a forward action to the given Services, in order,
// each on the Rollout's servicePort.
func forwardAction(cfg *v1alpha1.ALBTrafficRouting, targets []weightedTarget) (string, error) {
	sticky, err := stickinessOf(cfg)
	if err != nil {
		return "", err
	}
	port := strconv.Itoa(int(cfg.ServicePort))
	groups := make([]targetGroup, 0, len(targets))
	for _, t := range targets {
		w := int64(t.weight)
		groups = append(groups, targetGroup{ServiceName: t.service, ServicePort: port, Weight: &w})
	}
	return render(action{Type: "forward", ForwardConfig: forwardConfig{TargetGroups: groups, TargetGroupStickinessConfig: sticky}})
}

// splitTargets is the weighted split: the canary first, then each
// experiment destination, then the stable Service with what is left.
func splitTargets(stable, canary string, canaryWeight, total int32, extra []v1alpha1.WeightDestination) []weightedTarget {
	out := []weightedTarget{{service: canary, weight: canaryWeight}}
	rest := total - canaryWeight
	for _, d := range extra {
		out = append(out, weightedTarget{service: d.ServiceName, weight: d.Weight})
		rest -= d.Weight
	}
	return append(out, weightedTarget{service: stable, weight: rest})
}

// headerConditions renders a header route's matches as http-header
// conditions; exact values of the same header share one condition. The
// ALB matches values exactly (with * and ? wildcards), so a prefix or
// regular expression match is refused.
func headerConditions(route v1alpha1.SetHeaderRoute) (string, error) {
	var out []condition
	for _, m := range route.Match {
		if m.HeaderValue == nil || m.HeaderValue.Exact == "" {
			return "", fmt.Errorf("header route %q: the ALB router matches header %q by exact value only", route.Name, m.HeaderName)
		}
		i := slices.IndexFunc(out, func(c condition) bool { return c.HTTPHeaderConfig.HTTPHeaderName == m.HeaderName })
		if i >= 0 {
			out[i].HTTPHeaderConfig.Values = append(out[i].HTTPHeaderConfig.Values, m.HeaderValue.Exact)
			continue
		}
		out = append(out, condition{Field: "http-header", HTTPHeaderConfig: headerConfig{HTTPHeaderName: m.HeaderName, Values: []string{m.HeaderValue.Exact}}})
	}
	return render(out)
}

// managed is the managed-alb-annotations value: for each Rollout, the
// annotation keys it writes on the Ingress.
type managed map[string][]string

func parseManaged(s string) (managed, error) {
	m := managed{}
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("annotation %s is not valid JSON: %v", ManagedAnnotations, err)
	}
	return m, nil
}

// update adds the keys in add to the Rollout's list (after those already
// there) and takes those in remove out of it.
func (m managed) update(rollout string, add, remove []string) {
	list := []string{}
	for _, k := range m[rollout] {
		if !slices.Contains(remove, k) {
			list = append(list, k)
		}
	}
	for _, k := range add {
		if !slices.Contains(list, k) {
			list = append(list, k)
		}
	}
	m[rollout] = list
}

func (m managed) String() string {
	b, _ := json.Marshal(map[string][]string(m))
	return string(b)
}

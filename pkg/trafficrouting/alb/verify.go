package alb

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Weight verification: with --aws-verify-target-group, a Rollout moves past
// a setWeight step (and finishes) only once the AWS load balancer's target
// groups carry the weights the Ingress asks for. The AWS Load Balancer
// Controller applies the annotations asynchronously, so the first look
// after a change usually finds the old weight; the Rollout looks again
// after ROLLOUT_VERIFY_RETRY_INTERVAL.
//
// This file is pure: Lookups says which load balancers to look up, the
// reconciler asks ELBv2 and hands the answers back as Observations, and
// Verify turns them into status.canary.weights.verified, status.alb(s) and
// events.

// Event reasons and messages of the verification, Argo Rollouts' words.
const (
	ReasonVerified        = "TargetGroupVerified"
	ReasonUnverified      = "TargetGroupUnverified"
	ReasonVerifyError     = "TargetGroupVerifyError"
	ReasonLBNotFound      = "LoadBalancerNotFound"
	ReasonWeightVerifyErr = "WeightVerifyError"
	msgVerifiedWeights    = "Service %s (TargetGroup %s) verified: canary weight %d set"
	msgUnverifiedWeights  = "Service %s (TargetGroup %s) not verified: canary weight %d not yet set (current: %d)"
	msgVerifyError        = "Failed to verify Service %s (TargetGroup %s): %s"
	msgLBNotFound         = "Failed to find load balancer: %s"
	msgWeightVerifyError  = "Failed to verify weight: %s"
	DefaultResourceIDTag  = "ingress.k8s.aws/resource"
)

// LoadBalancer is an ELBv2 load balancer.
type LoadBalancer struct {
	ARN, Name, DNSName string
}

// TargetGroup is a target group of a load balancer, with the value of its
// resource ID tag and the weight a listener rule forwards to it (nil when
// no rule names it).
type TargetGroup struct {
	ARN, Name  string
	ResourceID string
	Weight     *int32
}

// Lookup is one load balancer to find, by the DNS name an Ingress's
// status gives, for the Ingress at index Index of the Rollout's list.
type Lookup struct {
	Index    int
	Ingress  string
	Hostname string
}

// Observation is what ELBv2 answered for one Lookup: the load balancer
// (nil when none has that DNS name) and its target groups, or an error.
type Observation struct {
	Lookup
	LoadBalancer *LoadBalancer
	TargetGroups []TargetGroup
	Err          error
}

// Hostnames are the load balancer DNS names an Ingress's status lists.
func Hostnames(ing *unstructured.Unstructured) []string {
	var out []string
	lbs, _, _ := unstructured.NestedSlice(ing.Object, "status", "loadBalancer", "ingress")
	for _, raw := range lbs {
		m, _ := raw.(map[string]any)
		if h, _ := m["hostname"].(string); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// ShouldVerify tells whether the Rollout is where its weight is checked:
// during an update, at a setWeight step or past the last step. AWS is
// also asked once while status.alb is empty, to fill it.
func ShouldVerify(ro *v1alpha1.Rollout) bool {
	c := ro.Spec.Strategy.Canary
	s := ro.Status
	if c == nil || c.TrafficRouting == nil || c.TrafficRouting.ALB == nil {
		return false
	}
	if s.ALB == nil && s.ALBs == nil {
		return true
	}
	if s.StableRS == "" || s.StableRS == s.CurrentPodHash {
		return false
	}
	i := int(ptrOr(s.CurrentStepIndex, 0))
	return i >= len(c.Steps) || c.Steps[i].SetWeight != nil
}

func ptrOr(p *int32, v int32) int32 {
	if p == nil {
		return v
	}
	return *p
}

// Lookups lists the load balancers to look up for a Rollout that
// ShouldVerify, from its observed Ingresses.
func (r *Router) Lookups(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) []Lookup {
	cfg := Config(ro)
	if cfg == nil || !ShouldVerify(ro) {
		return nil
	}
	var out []Lookup
	for i, name := range Ingresses(cfg) {
		ing := observed[r.ref(ro.Namespace, name)]
		if ing == nil {
			continue
		}
		for _, h := range Hostnames(ing) {
			out = append(out, Lookup{Index: i, Ingress: name, Hostname: h})
		}
	}
	return out
}

// ResourceID is the tag value the AWS Load Balancer Controller gives the
// target group of a Service behind an Ingress.
func ResourceID(namespace, ingress, service string, port int32) string {
	return fmt.Sprintf("%s/%s-%s:%d", namespace, ingress, service, port)
}

// arnTail is the part of an ARN after its first n slash-separated parts
// are dropped: the full name CloudWatch metrics use.
func arnTail(arn string, n int) string {
	parts := strings.Split(arn, "/")
	if len(parts) <= n {
		return ""
	}
	return strings.Join(parts[n:], "/")
}

// Result is what the verification decided.
type Result struct {
	// Verified is status.canary.weights.verified: nil when nothing was
	// checked, else whether every weight is in place.
	Verified *bool
	// ALB and ALBs are status.alb and status.albs.
	ALB  *v1alpha1.ALBStatus
	ALBs []v1alpha1.ALBStatus
	// Events to record.
	Events []event.Event
}

// Verify compares the weights in the observed target groups with the
// desired split. obs are the answers to Lookups, in order; a Rollout that
// does not ShouldVerify keeps its status.alb and gets no verdict.
func Verify(ro *v1alpha1.Rollout, d trafficrouting.Desired, obs []Observation) Result {
	cfg := Config(ro)
	res := Result{ALB: ro.Status.ALB.DeepCopy()}
	for _, a := range ro.Status.ALBs {
		res.ALBs = append(res.ALBs, *a.DeepCopy())
	}
	if cfg == nil || !ShouldVerify(ro) {
		return res
	}
	names := Ingresses(cfg)
	if res.ALB == nil {
		res.ALB = &v1alpha1.ALBStatus{}
	}
	if len(res.ALBs) != len(names) {
		res.ALBs = make([]v1alpha1.ALBStatus, len(names))
	}
	_, canary := trafficrouting.Services(ro, true)
	verified := 0
	no := false
	for _, o := range obs {
		if o.Err != nil {
			res.warn(ReasonVerifyError, fmt.Sprintf(msgVerifyError, canary, "unknown", o.Err.Error()))
			res.warn(ReasonWeightVerifyErr, fmt.Sprintf(msgWeightVerifyError, o.Err.Error()))
			res.Verified = &no
			return res
		}
		if o.LoadBalancer == nil {
			res.warn(ReasonLBNotFound, fmt.Sprintf(msgLBNotFound, o.Hostname))
			res.Verified = &no
			return res
		}
		verified += res.observe(ro, cfg, d, o)
	}
	all := verified == len(names)+len(d.Additional)
	res.Verified = &all
	return res
}

// observe records one load balancer's target groups in the status and
// returns how many of them carry the weight wanted.
func (res *Result) observe(ro *v1alpha1.Rollout, cfg *v1alpha1.ALBTrafficRouting, d trafficrouting.Desired, o Observation) int {
	if o.Index < 0 || o.Index >= len(res.ALBs) {
		return 0
	}
	stable, canary := trafficrouting.Services(ro, true)
	verified := 0
	one := &res.ALBs[o.Index]
	for _, st := range []*v1alpha1.ALBStatus{one, res.ALB} {
		st.Ingress = o.Ingress
		st.LoadBalancer = v1alpha1.AwsResourceRef{Name: o.LoadBalancer.Name, ARN: o.LoadBalancer.ARN, FullName: arnTail(o.LoadBalancer.ARN, 2)}
	}
	canaryID := ResourceID(ro.Namespace, o.Ingress, canary, cfg.ServicePort)
	stableID := ResourceID(ro.Namespace, o.Ingress, stable, cfg.ServicePort)
	extra := map[string]v1alpha1.WeightDestination{}
	for _, dest := range d.Additional {
		extra[ResourceID(ro.Namespace, o.Ingress, dest.ServiceName, cfg.ServicePort)] = dest
	}
	for _, tg := range o.TargetGroups {
		ref := v1alpha1.AwsResourceRef{Name: tg.Name, ARN: tg.ARN, FullName: arnTail(tg.ARN, 1)}
		switch tg.ResourceID {
		case canaryID:
			one.CanaryTargetGroup, res.ALB.CanaryTargetGroup = ref, ref
		case stableID:
			one.StableTargetGroup, res.ALB.StableTargetGroup = ref, ref
		}
		if tg.Weight == nil {
			continue
		}
		service, want, ok := canary, d.CanaryWeight, tg.ResourceID == canaryID
		if !ok {
			dest, isExtra := extra[tg.ResourceID]
			service, want, ok = dest.ServiceName, dest.Weight, isExtra
		}
		if ok && res.check(service, tg, want) {
			verified++
		}
	}
	return verified
}

// check records whether a target group carries the weight wanted.
func (res *Result) check(service string, tg TargetGroup, want int32) bool {
	if *tg.Weight == want {
		res.Events = append(res.Events, event.Event{Reason: ReasonVerified, Message: fmt.Sprintf(msgVerifiedWeights, service, tg.ARN, want)})
		return true
	}
	res.warn(ReasonUnverified, fmt.Sprintf(msgUnverifiedWeights, service, tg.ARN, want, *tg.Weight))
	return false
}

func (res *Result) warn(reason, message string) {
	res.Events = append(res.Events, event.Event{Warning: true, Reason: reason, Message: message})
}

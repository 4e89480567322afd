package alb

import (
	"errors"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

// updatingRollout is albRollout mid-update, at its setWeight step.
func updatingRollout(t *testing.T) *v1alpha1.Rollout {
	ro := trtest.Rollout(t, albRollout)
	ro.Status.StableRS, ro.Status.CurrentPodHash = "abc", "def"
	ro.Status.CurrentStepIndex = new(int32)
	ro.Status.ALB = &v1alpha1.ALBStatus{}
	return ro
}

func weight(w int32) *int32 { return &w }

const lbARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/k8s-shop-web/50dc6c495c0c9188"

func observation(canaryWeight int32) Observation {
	return Observation{
		Lookup:       Lookup{Index: 0, Ingress: "web", Hostname: "k8s-shop-web.eu-west-1.elb.amazonaws.com"},
		LoadBalancer: &LoadBalancer{ARN: lbARN, Name: "k8s-shop-web", DNSName: "k8s-shop-web.eu-west-1.elb.amazonaws.com"},
		TargetGroups: []TargetGroup{
			{ARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-webcanary/aaa", Name: "k8s-shop-webcanary", ResourceID: "shop/web-web-canary:80", Weight: weight(canaryWeight)},
			{ARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-webstable/bbb", Name: "k8s-shop-webstable", ResourceID: "shop/web-web-stable:80", Weight: weight(100 - canaryWeight)},
		},
	}
}

func TestVerifyFindsTheWeightSetAndFillsStatusALB(t *testing.T) {
	ro := updatingRollout(t)
	res := Verify(ro, desired(10), []Observation{observation(10)})
	if res.Verified == nil || !*res.Verified {
		t.Fatalf("verified = %v, want true", res.Verified)
	}
	trtest.EqualValue(t, res.ALB, `
ingress: web
loadBalancer: {name: k8s-shop-web, arn: "`+lbARN+`", fullName: k8s-shop-web/50dc6c495c0c9188}
canaryTargetGroup: {name: k8s-shop-webcanary, arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-webcanary/aaa", fullName: k8s-shop-webcanary/aaa}
stableTargetGroup: {name: k8s-shop-webstable, arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-webstable/bbb", fullName: k8s-shop-webstable/bbb}
`)
	if len(res.ALBs) != 1 || res.ALBs[0] != *res.ALB {
		t.Fatalf("status.albs = %+v, want the one Ingress's status", res.ALBs)
	}
	if len(res.Events) != 1 || res.Events[0].Reason != ReasonVerified ||
		res.Events[0].Message != "Service web-canary (TargetGroup arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-webcanary/aaa) verified: canary weight 10 set" {
		t.Fatalf("events %+v", res.Events)
	}
}

func TestVerifyReportsAWeightNotYetSet(t *testing.T) {
	res := Verify(updatingRollout(t), desired(30), []Observation{observation(10)})
	if res.Verified == nil || *res.Verified {
		t.Fatalf("verified = %v, want false", res.Verified)
	}
	if len(res.Events) != 1 || !res.Events[0].Warning || res.Events[0].Reason != ReasonUnverified ||
		res.Events[0].Message != "Service web-canary (TargetGroup arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-webcanary/aaa) not verified: canary weight 30 not yet set (current: 10)" {
		t.Fatalf("events %+v", res.Events)
	}
}

func TestVerifyCountsExperimentTargetGroups(t *testing.T) {
	o := observation(10)
	o.TargetGroups = append(o.TargetGroups, TargetGroup{ARN: "arn:x/exp", Name: "exp", ResourceID: "shop/web-exp-b:80", Weight: weight(5)})
	d := desired(10)
	d.Additional = []v1alpha1.WeightDestination{{ServiceName: "exp-a", Weight: 5}}
	if res := Verify(updatingRollout(t), d, []Observation{o}); res.Verified == nil || *res.Verified {
		t.Fatalf("exp-a has no target group of its own yet: verified = %v, want false", res.Verified)
	}
	o.TargetGroups[2].ResourceID = ResourceID("shop", "web", "exp-a", 80)
	if res := Verify(updatingRollout(t), d, []Observation{o}); res.Verified == nil || !*res.Verified {
		t.Fatalf("verified = %v, want true once canary and experiment weights are set", res.Verified)
	}
}

func TestVerifyErrorsAndMissingLoadBalancerAreEventsNotPanics(t *testing.T) {
	o := observation(10)
	o.LoadBalancer, o.TargetGroups, o.Err = nil, nil, errors.New("AccessDenied: not authorized")
	res := Verify(updatingRollout(t), desired(10), []Observation{o})
	if res.Verified == nil || *res.Verified || len(res.Events) != 2 ||
		res.Events[0].Message != "Failed to verify Service web-canary (TargetGroup unknown): AccessDenied: not authorized" ||
		res.Events[1].Reason != ReasonWeightVerifyErr || res.Events[1].Message != "Failed to verify weight: AccessDenied: not authorized" {
		t.Fatalf("result %+v", res)
	}
	o.Err = nil
	res = Verify(updatingRollout(t), desired(10), []Observation{o})
	if res.Verified == nil || *res.Verified || len(res.Events) != 1 || res.Events[0].Reason != ReasonLBNotFound ||
		res.Events[0].Message != "Failed to find load balancer: k8s-shop-web.eu-west-1.elb.amazonaws.com" {
		t.Fatalf("result %+v", res)
	}
	// No hostname in the Ingress's status yet: nothing to look up, not verified.
	if res := Verify(updatingRollout(t), desired(10), nil); res.Verified == nil || *res.Verified {
		t.Fatalf("verified = %v with no load balancer allocated, want false", res.Verified)
	}
}

func TestVerifyOnlyWhereUpstreamVerifies(t *testing.T) {
	ro := updatingRollout(t)
	ro.Status.ALB = &v1alpha1.ALBStatus{Ingress: "web"}
	ro.Status.CurrentStepIndex = weight(1) // a setHeaderRoute step
	if ShouldVerify(ro) {
		t.Fatal("verifies outside setWeight steps")
	}
	res := Verify(ro, desired(10), nil)
	if res.Verified != nil || res.ALB == nil || res.ALB.Ingress != "web" {
		t.Fatalf("result %+v, want no verdict and status.alb kept", res)
	}
	ro.Status.CurrentStepIndex = weight(3) // past the last step
	if !ShouldVerify(ro) {
		t.Fatal("does not verify the full weight at the end")
	}
	ro.Status.StableRS = "def" // promoted
	if ShouldVerify(ro) {
		t.Fatal("verifies a promoted Rollout")
	}
	ro.Status.ALB = nil // but status.alb is filled once
	if !ShouldVerify(ro) {
		t.Fatal("never fills status.alb")
	}
}

func TestLookupsFollowTheIngressStatus(t *testing.T) {
	ro := updatingRollout(t)
	ing := trtest.Obj(t, albIngress)
	ing.Object["status"] = map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"hostname": "a.elb.amazonaws.com"}, map[string]any{"ip": "10.0.0.1"}}}}
	got := New("").(*Router).Lookups(ro, observedIngress(t, trtest.Canonical(t, ing.Object)))
	if len(got) != 1 || got[0] != (Lookup{Index: 0, Ingress: "web", Hostname: "a.elb.amazonaws.com"}) {
		t.Fatalf("lookups %+v", got)
	}
}

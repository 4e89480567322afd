package plan

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// fakeAWS answers lookups with the canary weight the load balancer
// carries: lagging until applied, or an error.
type fakeAWS struct {
	w       *world
	weight  int64 // what the load balancer carries
	applied bool  // the AWS controller has caught up with the Ingress
	err     error
	asked   int
}

func (f *fakeAWS) answer(st State) *ALBVerification {
	ing := f.w.routerObjects[trafficrouting.Ref{Resource: ingressResource, Namespace: "default", Name: "demo"}]
	if _, written := ing.GetAnnotations()["alb.ingress.kubernetes.io/actions.demo-root"]; f.applied && written {
		f.weight = f.w.albWeights()["demo-canary"]
	}
	v := &ALBVerification{RetryInterval: 7 * time.Second}
	for _, l := range alb.New("").(*alb.Router).Lookups(st.Rollout, st.RouterObjects) {
		f.asked++
		if f.err != nil {
			v.Observations = append(v.Observations, alb.Observation{Lookup: l, Err: f.err})
			break
		}
		canary, stable := int32(f.weight), int32(100-f.weight)
		v.Observations = append(v.Observations, alb.Observation{Lookup: l,
			LoadBalancer: &alb.LoadBalancer{ARN: "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/demo/1", Name: "demo"},
			TargetGroups: []alb.TargetGroup{
				{ARN: "arn:tg/canary", Name: "canary", ResourceID: "default/demo-demo-canary:80", Weight: &canary},
				{ARN: "arn:tg/stable", Name: "stable", ResourceID: "default/demo-demo-stable:80", Weight: &stable},
			}})
	}
	return v
}

func verifyingALBWorld(t *testing.T) (*world, *fakeAWS) {
	w := albWorld(t, false, setWeight(20), pauseFor(""))
	ing := w.routerObjects[trafficrouting.Ref{Resource: ingressResource, Namespace: "default", Name: "demo"}]
	ing.Object["status"] = map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"hostname": "demo.elb.amazonaws.com"}}}}
	aws := &fakeAWS{w: w, applied: true}
	w.elb = aws.answer
	return w, aws
}

func TestSetWeightWaitsUntilTheLoadBalancerCarriesTheWeight(t *testing.T) {
	w, aws := verifyingALBWorld(t)
	w.settle()
	if w.ro.Status.ALB == nil || w.ro.Status.ALB.LoadBalancer.Name != "demo" || len(w.ro.Status.ALBs) != 1 {
		t.Fatalf("status.alb not filled on install: %+v", w.ro.Status.ALB)
	}
	aws.applied = false
	w.setImage("demo:v2")
	w.settle()
	w.expectALB(map[string]int64{"demo-stable": 80, "demo-canary": 20})
	// The Ingress says 20 but the load balancer still carries 0: the step waits.
	w.expectStep(0)
	if wt := w.ro.Status.Canary.Weights; wt == nil || wt.Verified == nil || *wt.Verified {
		t.Fatalf("status.canary.weights.verified = %v, want false", wt)
	}
	if w.last.RequeueAfter != 7*time.Second {
		t.Fatalf("requeue after %v, want the retry interval 7s", w.last.RequeueAfter)
	}
	w.expectEvent(alb.ReasonUnverified)
	aws.applied = true
	w.step()
	// The reconcile that finds the weight in place moves on.
	w.expectStep(1)
	if wt := w.ro.Status.Canary.Weights; wt == nil || wt.Verified == nil || !*wt.Verified {
		t.Fatalf("status.canary.weights.verified = %v, want true", wt)
	}
	if got := w.ro.Status.ALB.CanaryTargetGroup; got.ARN != "arn:tg/canary" || got.Name != "canary" {
		t.Fatalf("status.alb.canaryTargetGroup = %+v", got)
	}
	// At the pause step AWS is not asked any more.
	asked := aws.asked
	w.step()
	if aws.asked != asked {
		t.Fatal("ELBv2 was asked outside a setWeight step")
	}
}

func TestPromotionWaitsForTheFullWeight(t *testing.T) {
	w, aws := verifyingALBWorld(t)
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	aws.applied = false
	w.promote()
	w.settle()
	if w.ro.Status.StableRS == w.hash() {
		t.Fatal("promoted before the load balancer carried 100 to the canary")
	}
	aws.applied = true
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
}

func TestAWSErrorIsAnEventAndTheStepWaits(t *testing.T) {
	w, aws := verifyingALBWorld(t)
	w.settle()
	aws.err = errors.New("AccessDenied: User is not authorized to perform: elasticloadbalancing:DescribeLoadBalancers")
	w.setImage("demo:v2")
	w.settle()
	w.expectStep(0)
	found := false
	for _, e := range w.events {
		found = found || (e.Warning && e.Reason == alb.ReasonWeightVerifyErr && strings.Contains(e.Message, "AccessDenied"))
	}
	if !found {
		t.Fatalf("no WeightVerifyError event among %+v", w.events)
	}
	aws.err = nil
	w.settle()
	w.expectStep(1)
}

func TestWithoutVerificationStatusALBIsCleared(t *testing.T) {
	w := albWorld(t, false, setWeight(20), pauseFor(""))
	w.ro.Status.ALB = &v1alpha1.ALBStatus{Ingress: "demo"}
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	if w.ro.Status.ALB != nil || w.ro.Status.Canary.Weights.Verified != nil {
		t.Fatalf("status.alb %+v, verified %v; want neither without --aws-verify-target-group", w.ro.Status.ALB, w.ro.Status.Canary.Weights.Verified)
	}
	w.expectStep(1)
}

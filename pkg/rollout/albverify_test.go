package rollout

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

type fakeELB struct {
	lbs        map[string]*alb.LoadBalancer
	registered []string
	err        error
	calls      []string
}

func (f *fakeELB) FindLoadBalancer(_ context.Context, dns string) (*alb.LoadBalancer, error) {
	f.calls = append(f.calls, "lb "+dns)
	return f.lbs[dns], f.err
}

func (f *fakeELB) TargetGroups(_ context.Context, arn string) ([]alb.TargetGroup, error) {
	f.calls = append(f.calls, "tgs "+arn)
	return []alb.TargetGroup{{ARN: arn + "/tg"}}, nil
}

func albState(hostnames ...string) (*v1alpha1.Rollout, plan.State) {
	ro := &v1alpha1.Rollout{}
	ro.Name, ro.Namespace = "web", "shop"
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{StableService: "s", CanaryService: "c",
		TrafficRouting: &v1alpha1.RolloutTrafficRouting{ALB: &v1alpha1.ALBTrafficRouting{Ingresses: []string{"a", "b"}, ServicePort: 80}}}
	r := alb.New("")
	st := plan.State{Routers: []trafficrouting.Router{r}, RouterObjects: map[trafficrouting.Ref]*unstructured.Unstructured{}}
	for i, ref := range r.References(ro) {
		ing := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"loadBalancer": map[string]any{
			"ingress": []any{map[string]any{"hostname": hostnames[i]}}}}}}
		st.RouterObjects[ref] = ing
	}
	return ro, st
}

func TestObserveALBAsksELBv2ForEachIngressLoadBalancer(t *testing.T) {
	elb := &fakeELB{lbs: map[string]*alb.LoadBalancer{"a.elb": {ARN: "arn:a"}, "b.elb": {ARN: "arn:b"}}}
	r := &Reconciler{o: Options{ELB: elb, VerifyRetryInterval: 3 * time.Second}}
	ro, st := albState("a.elb", "b.elb")
	r.observeALB(context.Background(), ro, &st)
	if st.ALB == nil || st.ALB.RetryInterval != 3*time.Second || len(st.ALB.Observations) != 2 ||
		st.ALB.Observations[1].Ingress != "b" || st.ALB.Observations[1].TargetGroups[0].ARN != "arn:b/tg" {
		t.Fatalf("verification %+v", st.ALB)
	}
	if want := "lb a.elb,tgs arn:a,lb b.elb,tgs arn:b"; strings.Join(elb.calls, ",") != want {
		t.Fatalf("calls %v, want %s", elb.calls, want)
	}
}

func TestObserveALBStopsAtTheFirstErrorOrMissingLoadBalancer(t *testing.T) {
	elb := &fakeELB{err: errors.New("throttled")}
	r := &Reconciler{o: Options{ELB: elb}}
	ro, st := albState("a.elb", "b.elb")
	r.observeALB(context.Background(), ro, &st)
	if len(st.ALB.Observations) != 1 || st.ALB.Observations[0].Err == nil || strings.Join(elb.calls, ",") != "lb a.elb" {
		t.Fatalf("observations %+v, calls %v", st.ALB.Observations, elb.calls)
	}
	elb = &fakeELB{lbs: map[string]*alb.LoadBalancer{}}
	r = &Reconciler{o: Options{ELB: elb}}
	ro, st = albState("a.elb", "b.elb")
	r.observeALB(context.Background(), ro, &st)
	if len(st.ALB.Observations) != 1 || st.ALB.Observations[0].LoadBalancer != nil {
		t.Fatalf("observations %+v", st.ALB.Observations)
	}
	// Verification off: no ELBv2 call, no State.ALB.
	ro, st = albState("a.elb", "b.elb")
	(&Reconciler{}).observeALB(context.Background(), ro, &st)
	if st.ALB != nil {
		t.Fatal("State.ALB set without verification")
	}
}

func (f *fakeELB) RegisteredTargets(_ context.Context, arn string) ([]string, error) {
	f.calls = append(f.calls, "targets "+arn)
	return f.registered, f.err
}

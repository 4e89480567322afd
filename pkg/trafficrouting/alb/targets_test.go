package alb

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting/internal/trtest"
)

func stableService() *corev1.Service {
	svc := &corev1.Service{}
	svc.Name = "web-stable"
	svc.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("web")}}
	return svc
}

func endpoints(ips ...string) *corev1.Endpoints {
	ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Name: "web", Port: 8080}}}}}
	for _, ip := range ips {
		ep.Subsets[0].Addresses = append(ep.Subsets[0].Addresses, corev1.EndpointAddress{IP: ip})
	}
	return ep
}

func TestBindingsOfTheServiceAndTheirTargets(t *testing.T) {
	objs := []*unstructured.Unstructured{
		trtest.Obj(t, `{apiVersion: elbv2.k8s.aws/v1beta1, kind: TargetGroupBinding, metadata: {name: by-name}, spec: {targetGroupARN: "arn:tg/1", targetType: ip, serviceRef: {name: web-stable, port: http}}}`),
		trtest.Obj(t, `{apiVersion: elbv2.k8s.aws/v1beta1, kind: TargetGroupBinding, metadata: {name: by-number}, spec: {targetGroupARN: "arn:tg/2", targetType: instance, serviceRef: {name: web-stable, port: 80}}}`),
		trtest.Obj(t, `{apiVersion: elbv2.k8s.aws/v1beta1, kind: TargetGroupBinding, metadata: {name: other-port}, spec: {targetGroupARN: "arn:tg/3", serviceRef: {name: web-stable, port: 443}}}`),
		trtest.Obj(t, `{apiVersion: elbv2.k8s.aws/v1beta1, kind: TargetGroupBinding, metadata: {name: other-svc}, spec: {targetGroupARN: "arn:tg/4", serviceRef: {name: api, port: 80}}}`),
		trtest.Obj(t, `{apiVersion: elbv2.k8s.aws/v1beta1, kind: TargetGroupBinding, metadata: {name: broken}, spec: "nonsense"}`),
	}
	got := BindingsOf(objs, stableService())
	if len(got) != 2 || got[0].Name != "by-name" || got[1].Name != "by-number" {
		t.Fatalf("bindings %+v", got)
	}
	if want := "10.0.0.1:8080,10.0.0.2:8080"; strings.Join(ExpectedTargets(got[0], stableService(), endpoints("10.0.0.2", "10.0.0.1")), ",") != want {
		t.Fatalf("targets %v, want %s (the named target port resolved through the endpoints)", ExpectedTargets(got[0], stableService(), endpoints("10.0.0.2", "10.0.0.1")), want)
	}
	if ExpectedTargets(got[1], stableService(), endpoints("10.0.0.1")) != nil {
		t.Fatal("an instance target group is not verified")
	}
}

func TestVerifyTargetsCountsRegisteredEndpoints(t *testing.T) {
	b := Binding{Name: "tgb", TargetGroupARN: "arn:tg/1"}
	ok, events := VerifyTargets([]TargetsObservation{{Service: "web-stable", Binding: b, Expected: []string{"10.0.0.1:8080", "10.0.0.2:8080"}, Registered: []string{"10.0.0.1:8080", "10.0.0.9:8080"}}})
	if ok == nil || *ok || len(events) != 1 || events[0].Message != "Service web-stable (TargetGroup arn:tg/1) not verified: 1/2 endpoints registered" {
		t.Fatalf("verified %v, events %+v", ok, events)
	}
	ok, events = VerifyTargets([]TargetsObservation{{Service: "web-stable", Binding: b, Expected: []string{"10.0.0.1:8080"}, Registered: []string{"10.0.0.1:8080", "10.0.0.9:8080"}}})
	if ok == nil || !*ok || len(events) != 1 || events[0].Reason != ReasonVerified || events[0].Message != "Service web-stable (TargetGroup arn:tg/1) verified: 1 endpoints registered" {
		t.Fatalf("verified %v, events %+v", ok, events)
	}
	ok, events = VerifyTargets([]TargetsObservation{{Service: "web-stable", Binding: b, Err: errors.New("Throttling")}})
	if ok == nil || *ok || len(events) != 1 || events[0].Message != "Failed to verify Service web-stable (TargetGroup arn:tg/1): Throttling" {
		t.Fatalf("verified %v, events %+v", ok, events)
	}
	if ok, _ := VerifyTargets(nil); ok != nil {
		t.Fatal("nothing to verify, yet a verdict")
	}
}

func TestTargetsServiceIsWhereUpstreamVerifies(t *testing.T) {
	ro := trtest.Rollout(t, albRollout)
	ro.Status.StableRS, ro.Status.CurrentPodHash = "new", "new"
	if got := TargetsService(ro, "", true); got != "web-stable" {
		t.Fatalf("promoted ALB canary with old pods: %q, want web-stable", got)
	}
	if TargetsService(ro, "", false) != "" {
		t.Fatal("verifies with no old pods left to scale down")
	}
	ro.Status.StableRS = "old"
	if TargetsService(ro, "", true) != "" {
		t.Fatal("verifies mid-update")
	}
	bg := &v1alpha1.Rollout{}
	bg.Spec.Strategy.BlueGreen = &v1alpha1.BlueGreenStrategy{ActiveService: "web-active"}
	bg.Status.StableRS, bg.Status.CurrentPodHash = "old", "new"
	if TargetsService(bg, "new", false) != "web-active" || TargetsService(bg, "old", false) != "" {
		t.Fatal("blue-green: verify the active Service once it selects the new pods, not before")
	}
	if _, err := TargetGroupBindings("v1"); err == nil {
		t.Fatal("an API version without a group accepted")
	}
	if gvr, _ := TargetGroupBindings(""); gvr.String() != "elbv2.k8s.aws/v1beta1, Resource=targetgroupbindings" {
		t.Fatalf("default %v", gvr)
	}
}

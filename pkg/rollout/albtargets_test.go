package rollout

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var tgbResource = schema.GroupVersionResource{Group: "elbv2.k8s.aws", Version: "v1beta1", Resource: "targetgroupbindings"}

func TestObserveTargetsChecksTheStableServicesBindingsAfterPromotion(t *testing.T) {
	tgb := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
		"metadata": map[string]any{"name": "web", "namespace": "shop"},
		"spec":     map[string]any{"targetGroupARN": "arn:tg/web", "targetType": "ip", "serviceRef": map[string]any{"name": "s", "port": int64(80)}},
	}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{tgbResource: "TargetGroupBindingList"}, tgb)
	kube := kubefake.NewClientset(&corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "shop"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.0.0.7"}}}}})
	elb := &fakeELB{registered: []string{"10.0.0.7:8080"}}
	r := &Reconciler{o: Options{ELB: elb, Dynamic: dyn, KubeClient: kube, TargetGroupBindings: tgbResource}}
	ro, st := albState("a.elb", "b.elb")
	ro.Status.StableRS, ro.Status.CurrentPodHash = "new", "new"
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	st.Services = map[string]*corev1.Service{"s": svc}
	two := int32(2)
	old := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1alpha1.LabelPodTemplateHash: "old"}}, Spec: appsv1.ReplicaSetSpec{Replicas: &two}}
	st.ReplicaSets = []*appsv1.ReplicaSet{old}
	r.observeTargets(context.Background(), ro, &st)
	if st.Targets == nil || len(st.Targets.Observations) != 1 {
		t.Fatalf("targets %+v", st.Targets)
	}
	o := st.Targets.Observations[0]
	if o.Service != "s" || strings.Join(o.Expected, ",") != "10.0.0.7:8080" || strings.Join(o.Registered, ",") != "10.0.0.7:8080" || strings.Join(elb.calls, ",") != "targets arn:tg/web" {
		t.Fatalf("observation %+v, calls %v", o, elb.calls)
	}
	// Once the old pods have a scale-down deadline there is nothing to check.
	old.Annotations = map[string]string{v1alpha1.AnnotationScaleDownDeadline: "x"}
	st.Targets = nil
	r.observeTargets(context.Background(), ro, &st)
	if st.Targets == nil || st.Targets.Observations != nil {
		t.Fatalf("targets %+v, want verification on with nothing to check", st.Targets)
	}
}

func TestObserveTargetsWithoutVerificationDoesNothing(t *testing.T) {
	ro, st := albState("a.elb", "b.elb")
	(&Reconciler{}).observeTargets(context.Background(), ro, &st)
	if st.Targets != nil {
		t.Fatal("State.Targets set without verification")
	}
}

package alb

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/e2e/cluster"
	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/awselb/elbfake"
)

// targetGroupBindingCRD defines the AWS Load Balancer Controller's
// TargetGroupBinding. No Go module carries a CRD an API server of today
// accepts (the proxy serves sigs.k8s.io/aws-load-balancer-controller only
// as v1.1.9, the old ingress controller, without it), so this minimal one
// is written from the controller's documentation: elbv2.k8s.aws v1beta1,
// with the fields Serin reads typed (targetGroupARN, targetType,
// serviceRef.name, serviceRef.port as a number or a name) and the rest of
// the spec kept as written.
const targetGroupBindingCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: targetgroupbindings.elbv2.k8s.aws
spec:
  group: elbv2.k8s.aws
  scope: Namespaced
  names: {kind: TargetGroupBinding, listKind: TargetGroupBindingList, plural: targetgroupbindings, singular: targetgroupbinding}
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [targetGroupARN, serviceRef]
            x-kubernetes-preserve-unknown-fields: true
            properties:
              targetGroupARN: {type: string, minLength: 1}
              targetType: {type: string, enum: [instance, ip]}
              serviceRef:
                type: object
                required: [name, port]
                properties:
                  name: {type: string}
                  port: {x-kubernetes-int-or-string: true}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

var targetGroupBindings = schema.GroupVersionResource{Group: "elbv2.k8s.aws", Version: "v1beta1", Resource: "targetgroupbindings"}

// installTargetGroupBindingCRD is the suite's set-up: the CRD, before the
// controller starts.
func installTargetGroupBindingCRD(e *framework.Env) error {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(targetGroupBindingCRD), &u.Object); err != nil {
		return err
	}
	return cluster.ApplyObjects(context.Background(), e.Cluster.RESTConfig(), []*unstructured.Unstructured{u})
}

// TestPromotionKeepsOldPodsUntilTheNewAreRegistered binds web-stable to a
// target group: after promotion the old pods stay, without a scale-down
// deadline, until ELBv2 lists every address of web-stable as registered.
func TestPromotionKeepsOldPodsUntilTheNewAreRegistered(t *testing.T) {
	f, _ := albSetup(t, "web-root", "web-stable", "web-canary")
	tgARN := "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/" + f.Namespace + "-stable/1"
	elb.Add(&elbfake.LoadBalancer{ARN: "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/" + f.Namespace + "-tgb/1",
		Name: f.Namespace + "-tgb", DNSName: f.Namespace + "-tgb.invalid", TargetGroups: []*elbfake.TargetGroup{{ARN: tgARN, Name: "stable"}}})
	f.Create(targetGroupBindings, fmt.Sprintf(`
apiVersion: elbv2.k8s.aws/v1beta1
kind: TargetGroupBinding
metadata: {name: web-stable}
spec: {targetGroupARN: %q, targetType: ip, serviceRef: {name: web-stable, port: 80}}
`, tgARN))
	r := f.Rollout(verifyRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	oldHash := r.Get().Status.StableRS
	r.SetImage("web:v2")
	r.WaitForPausedAtStep(1)
	r.Promote()
	r.WaitFor("the event saying the new pods are not registered", func(*v1alpha1.Rollout) bool { return r.Events("TargetGroupUnverified") > 0 })
	r.Consistently("the old pods stay, with no scale-down deadline", 3*time.Second, func(*v1alpha1.Rollout) bool {
		rs := replicaSet(r, oldHash)
		if rs == nil {
			return false
		}
		_, deadline := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]
		return *rs.Spec.Replicas == 2 && !deadline
	})
	ep, err := f.Env.Kube.CoreV1().Endpoints(f.Namespace).Get(context.Background(), "web-stable", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, s := range ep.Subsets {
		for _, a := range s.Addresses {
			targets = append(targets, a.IP+":8080")
		}
	}
	elb.SetTargets(tgARN, targets)
	r.WaitFor("the old ReplicaSet's scale-down deadline", func(*v1alpha1.Rollout) bool {
		rs := replicaSet(r, oldHash)
		if rs == nil {
			return false
		}
		_, deadline := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]
		return deadline
	})
	if r.Events("TargetGroupVerified") == 0 {
		t.Fatal("no TargetGroupVerified event")
	}
}

// replicaSet is the Rollout's ReplicaSet of a revision, or nil.
func replicaSet(r *framework.R, hash string) *appsv1.ReplicaSet {
	for _, rs := range r.ReplicaSets() {
		if rs.Labels[v1alpha1.LabelPodTemplateHash] == hash {
			return &rs
		}
	}
	return nil
}

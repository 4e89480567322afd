package rollout

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const subsetHeaderCanary = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
spec:
  replicas: 4
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      trafficRouting:
        managedRoutes:
        - name: header
        istio:
          virtualService: {name: demo, routes: [primary]}
          destinationRule: {name: demo, canarySubsetName: canary, stableSubsetName: stable}
      steps:
      - setWeight: 20
      - setHeaderRoute:
          name: header
          match:
          - headerName: X-Canary
            headerValue: {exact: "true"}
      - pause: {}
`

// serinRecordKey is the annotation where Serin records the routes it
// installed in a VirtualService.
const serinRecordKey = "serin.dev/managed-routes"

// vsReleased and drReleased tell whether the Istio objects hold nothing of a Rollout:
// no managed route or record in the VirtualService, no pinned subset or
// managed-by annotation in the DestinationRule.
func vsReleased(u *unstructured.Unstructured) bool {
	_, recorded := u.GetAnnotations()[serinRecordKey]
	return strings.Join(httpRouteNames(u), ",") == "primary" && !recorded
}

func drReleased(u *unstructured.Unstructured) bool {
	_, managed := u.GetAnnotations()[v1alpha1.AnnotationManagedByRollouts]
	for _, h := range subsetHashes(u) {
		if h != "" {
			return false
		}
	}
	return !managed
}

func TestDeletingARolloutMidCanaryBehindIstioGivesTheRoutingBack(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	f.Create(virtualServices, subsetVirtualService)
	f.Create(destinationRules, subsetDestinationRule)
	r := f.Rollout(subsetHeaderCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(2)
	f.WaitForObject(virtualServices, "demo", "the header route installed and recorded", func(u *unstructured.Unstructured) bool {
		return strings.Join(httpRouteNames(u), ",") == "header,primary" && u.GetAnnotations()[serinRecordKey] != ""
	})
	f.WaitForObject(destinationRules, "demo", "the canary subset pinned", func(u *unstructured.Unstructured) bool {
		return subsetHashes(u)["canary"] == r.Get().Status.CurrentPodHash
	})

	if err := f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(f.Namespace).Delete(context.Background(), r.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.WaitForObject(virtualServices, "demo", "no managed route left", vsReleased)
	f.WaitForObject(destinationRules, "demo", "subsets selecting the app again", drReleased)
}

func TestARolloutThatDropsTrafficRoutingGivesTheDestinationRuleBack(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	f.Create(virtualServices, subsetVirtualService)
	f.Create(destinationRules, subsetDestinationRule)
	r := f.Rollout(subsetCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(destinationRules, "demo", "managed", func(u *unstructured.Unstructured) bool {
		return u.GetAnnotations()[v1alpha1.AnnotationManagedByRollouts] == "demo"
	})

	r.Edit(`{"spec":{"strategy":{"canary":{"trafficRouting":null}}}}`)
	f.WaitForObject(destinationRules, "demo", "subsets selecting the app again", drReleased)
}

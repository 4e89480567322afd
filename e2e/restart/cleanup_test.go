package restart

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var services = schema.GroupVersionResource{Version: "v1", Resource: "services"}

const headerRollout = `
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
      stableService: demo-stable
      canaryService: demo-canary
      trafficRouting:
        managedRoutes: [{name: header}]
        istio:
          virtualService: {name: demo, routes: [primary]}
      steps:
      - setWeight: 10
      - setHeaderRoute:
          name: header
          match: [{headerName: X-Canary, headerValue: {exact: "true"}}]
      - pause: {}
`

func routeNames(u *unstructured.Unstructured) string {
	var names []string
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	for _, r := range routes {
		n, _ := r.(map[string]any)["name"].(string)
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

// TestARolloutDeletedWhileNoControllerRanIsCleanedUpAfter deletes a Rollout
// mid-canary while the controller is stopped: its successor, which never
// saw the Rollout, still takes the header route out of the VirtualService
// and gives the Services back to the app.
func TestARolloutDeletedWhileNoControllerRanIsCleanedUpAfter(t *testing.T) {
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	f.Create(virtualServices, istioVirtualService)
	r := f.Rollout(headerRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(2)
	f.WaitForObject(virtualServices, "demo", "the header route installed", func(u *unstructured.Unstructured) bool {
		return routeNames(u) == "header,primary"
	})

	f.Env.StopController()
	if err := f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(f.Namespace).Delete(t.Context(), r.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Env.StartController(); err != nil {
		t.Fatal(err)
	}
	f.WaitForObject(virtualServices, "demo", "no managed route left", func(u *unstructured.Unstructured) bool {
		_, recorded := u.GetAnnotations()["serin.dev/managed-routes"]
		return routeNames(u) == "primary" && !recorded
	})
	for _, name := range []string{"demo-stable", "demo-canary"} {
		f.WaitForObject(services, name, "released to the app", func(u *unstructured.Unstructured) bool {
			sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector")
			_, managed := u.GetAnnotations()[v1alpha1.AnnotationManagedByRollouts]
			return len(sel) == 1 && sel["app"] == "demo" && !managed
		})
	}
}

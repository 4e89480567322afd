package routers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/serin-dev/serin/e2e/framework"
)

var (
	traefikServices = schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "traefikservices"}
	mappings        = schema.GroupVersionResource{Group: "getambassador.io", Version: "v2", Resource: "mappings"}
	apisixRoutes    = schema.GroupVersionResource{Group: "apisix.apache.org", Version: "v2", Resource: "apisixroutes"}
	virtualRouters  = schema.GroupVersionResource{Group: "appmesh.k8s.aws", Version: "v1beta2", Resource: "virtualrouters"}
	virtualNodes    = schema.GroupVersionResource{Group: "appmesh.k8s.aws", Version: "v1beta2", Resource: "virtualnodes"}
	virtualServices = schema.GroupVersionResource{Group: "appmesh.k8s.aws", Version: "v1beta2", Resource: "virtualservices"}
)

// rolloutOf renders a canary Rollout of app "demo" with the given
// trafficRouting section and steps (YAML, indented for their place).
func rolloutOf(routing, steps string) string {
	return fmt.Sprintf(`
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
      abortScaleDownDelaySeconds: 2
      scaleDownDelaySeconds: 2
      trafficRouting:
%s
      steps:
%s
`, routing, steps)
}

const twoSteps = `      - setWeight: 20
      - pause: {}
      - setWeight: 60
      - pause: {}`

// get reads an object of the test's namespace; nil when it does not exist.
func get(f *framework.T, gvr schema.GroupVersionResource, name string) *unstructured.Unstructured {
	f.Helper()
	u, err := f.Env.Cluster.Dynamic().Resource(gvr).Namespace(f.Namespace).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		f.Fatalf("reading %s %s: %v", gvr.Resource, name, err)
	}
	return u
}

// waitGone waits until the object no longer exists.
func waitGone(f *framework.T, gvr schema.GroupVersionResource, name string) {
	f.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, framework.DefaultTimeout, true, func(context.Context) (bool, error) {
		return get(f, gvr, name) == nil, nil
	})
	if err != nil {
		f.Fatalf("%s %s was never deleted", gvr.Resource, name)
	}
}

// backendWeights reads name -> weight from a list of backends, each an
// object with a name field and a weight.
func backendWeights(list []any, nameField string) map[string]int64 {
	out := map[string]int64{}
	for _, raw := range list {
		m, _ := raw.(map[string]any)
		name, _ := m[nameField].(string)
		w, _ := m["weight"].(int64)
		out[name] = w
	}
	return out
}

// weightsAre checks the demo-stable and demo-canary weights read by read.
func weightsAre(read func(*unstructured.Unstructured) map[string]int64, stable, canary int64) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool {
		w := read(u)
		return w["demo-stable"] == stable && w["demo-canary"] == canary
	}
}

package plugins

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// routed is 25% -> pause -> 50% -> 100%, split by a router plugin.
const routed = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: %s
spec:
  replicas: 4
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      stableService: %[1]s-stable
      canaryService: %[1]s-canary
      trafficRouting:
        plugins:
          %[2]s: {}
      steps:
      - setWeight: 25
      - pause: {}
      - setWeight: 50
      - pause: {duration: 1s}
`

// routedRollout creates the Services and a Rollout split by plugin.
func routedRollout(f *framework.T, name, plugin string) *framework.R {
	f.Helper()
	f.Service(name+"-stable", name).Service(name+"-canary", name)
	return f.Rollout(fmt.Sprintf(routed, name, plugin))
}

// traffic is what the router plugin was told last for the Rollout, nil
// while it was told nothing.
func traffic(f *framework.T, name string) map[string]string {
	f.Helper()
	cm, err := f.Env.Kube.CoreV1().ConfigMaps(f.Namespace).Get(context.Background(), name+"-traffic", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		f.Fatal(err)
	}
	return cm.Data
}

// waitForTraffic waits until the plugin holds the weight.
func waitForTraffic(f *framework.T, name, weight string) map[string]string {
	f.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		data := traffic(f, name)
		if data["weight"] == weight {
			return data
		}
		if time.Now().After(deadline) {
			f.Fatalf("the router plugin holds %v, want weight %s", data, weight)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// eventMessages are the messages of the Rollout's events of a reason.
func eventMessages(f *framework.T, name, reason string) []string {
	f.Helper()
	list, err := f.Env.Kube.CoreV1().Events(f.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		f.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.Reason == reason {
			out = append(out, e.Message)
		}
	}
	return out
}

// waitForEvent waits for an event of the reason whose message has every
// part, and returns its message.
func waitForEvent(f *framework.T, name, reason string, parts ...string) string {
	f.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
	next:
		for _, msg := range eventMessages(f, name, reason) {
			for _, p := range parts {
				if !strings.Contains(msg, p) {
					continue next
				}
			}
			return msg
		}
		if time.Now().After(deadline) {
			f.Fatalf("no %s event with %q; have %q", reason, parts, eventMessages(f, name, reason))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// promoteThroughThePlugin runs an update of a Rollout split by plugin and
// checks what the plugin was told at each step.
func promoteThroughThePlugin(t *testing.T, plugin string) {
	f := framework.New(t)
	r := routedRollout(f, "web", plugin)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 4})
	stable := waitForTraffic(f, "web", "0")["stableHash"]
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	data := waitForTraffic(f, "web", "25")
	ro := r.Get()
	if data["canaryHash"] != ro.Status.CurrentPodHash || data["stableHash"] != stable {
		t.Fatalf("the plugin holds %v; want canary %s and stable %s", data, ro.Status.CurrentPodHash, stable)
	}
	if w := ro.Status.Canary.Weights; w == nil || w.Canary.Weight != 25 || w.Verified == nil || !*w.Verified {
		t.Fatalf("status.canary.weights %+v, want 25 verified", w)
	}
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	data = waitForTraffic(f, "web", "0")
	if data["stableHash"] != r.Get().Status.StableRS || data["removedRoutes"] != "true" {
		t.Fatalf("after the promotion the plugin holds %v, want all traffic on %s and managed routes removed", data, r.Get().Status.StableRS)
	}
}

func TestARouterPluginFromAFileSplitsTheCanary(t *testing.T) {
	t.Parallel()
	promoteThroughThePlugin(t, fileRouter)
}

func TestADownloadedRouterPluginSplitsTheCanary(t *testing.T) {
	t.Parallel()
	promoteThroughThePlugin(t, httpRouter)
}

// A router plugin that dies in the middle of a call fails that reconcile
// (TrafficRoutingError); the next one starts it again, and the split stays
// where it was.
func TestARouterPluginThatCrashesIsRestartedAndTrafficStays(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := routedRollout(f, "crash", crashingRouter)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	before := waitForTraffic(f, "crash", "25")
	if err := os.WriteFile(crashMarker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(crashMarker)
	r.Edit(`{"metadata":{"annotations":{"e2e.serin.dev/poke":"1"}}}`)
	waitForEvent(f, "crash", v1alpha1.EventTrafficRoutingError, crashingRouter, "SetWeight")
	deadline := time.Now().Add(time.Minute)
	for after := traffic(f, "crash"); after["pid"] == before["pid"]; after = traffic(f, "crash") {
		if after["weight"] != "25" {
			t.Fatalf("the split moved to %v while the plugin crashed", after)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin was not started again: %v", after)
		}
		r.Edit(fmt.Sprintf(`{"metadata":{"annotations":{"e2e.serin.dev/poke":"%d"}}}`, time.Now().UnixNano()))
		time.Sleep(500 * time.Millisecond)
	}
	if after := traffic(f, "crash"); after["weight"] != "25" {
		t.Fatalf("after the restart the plugin holds %v, want weight 25", after)
	}
	r.WaitForPausedAtStep(1)
	r.Promote()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
}

func TestARouterPluginWithAWrongSha256IsAnErrorAndTrafficIsUntouched(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	r := routedRollout(f, "wrongsum", wrongSumRouter)
	waitForEvent(f, "wrongsum", v1alpha1.EventTrafficRoutingError, wrongSumRouter, "sha256")
	if data := traffic(f, "wrongsum"); data != nil {
		t.Fatalf("a refused plugin changed traffic: %v", data)
	}
	if ro := r.Get(); ro.Status.Phase == v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("a Rollout whose router was refused became Healthy")
	}
}

// A router plugin that never answers costs each call the deadline: the
// Rollout reports TrafficRoutingError and its traffic is untouched, while
// another Rollout of the same controller, on another plugin, is promoted.
func TestAHangingRouterPluginErrsAtTheDeadlineAndOthersKeepProgressing(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	hung := routedRollout(f, "hung", hangingRouter)
	other := routedRollout(f, "other", fileRouter)
	other.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	other.SetImage("demo:v2")
	other.WaitForPausedAtStep(1)
	other.PromoteFull()
	other.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev2": 4})
	waitForEvent(f, "hung", v1alpha1.EventTrafficRoutingError, hangingRouter, "no answer in time")
	if data := traffic(f, "hung"); data != nil {
		t.Fatalf("a hung plugin changed traffic: %v", data)
	}
	if ro := hung.Get(); ro.Status.Phase == v1alpha1.RolloutPhaseHealthy {
		t.Fatalf("a Rollout whose router hangs became Healthy")
	}
}

var httpRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

// both is split by Serin's built-in Gateway API router (no plugin of that
// name is configured in this suite) and by the router plugin.
const both = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: both
spec:
  replicas: 2
  selector:
    matchLabels: {app: both}
  template:
    metadata:
      labels: {app: both}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      stableService: both-stable
      canaryService: both-canary
      trafficRouting:
        plugins:
          argoproj-labs/gatewayAPI: {httpRoute: both}
          ` + fileRouter + `: {}
      steps:
      - setWeight: 30
      - pause: {}
`

const bothRoute = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: both
spec:
  parentRefs: [{name: gateway}]
  rules:
  - backendRefs:
    - {name: both-stable, port: 80, weight: 100}
    - {name: both-canary, port: 80, weight: 0}
`

func TestARouterPluginSplitsTogetherWithABuiltInRouter(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("both-stable", "both").Service("both-canary", "both")
	f.Create(httpRoutes, bothRoute)
	r := f.Rollout(both)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	waitForTraffic(f, "both", "30")
	f.WaitForObject(httpRoutes, "both", "backend weights 70/30", func(u *unstructured.Unstructured) bool {
		rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
		if len(rules) == 0 {
			return false
		}
		refs, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backendRefs")
		w := map[string]int64{}
		for _, ref := range refs {
			name, _, _ := unstructured.NestedString(ref.(map[string]any), "name")
			weight, _, _ := unstructured.NestedInt64(ref.(map[string]any), "weight")
			w[name] = weight
		}
		return w["both-stable"] == 70 && w["both-canary"] == 30
	})
}

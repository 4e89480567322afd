package plan

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/pluginrouter"
)

const routerPlugin = "example.com/router"

// verifyWeights asks the world's plugin routers to verify the recorded
// split, as the reconciler does before planning.
func (w *world) verifyWeights(st *State) {
	if w.verify == nil {
		return
	}
	weight, extra := WeightToVerify(st.Rollout)
	st.Verifications = map[string]Verification{}
	for _, r := range st.Routers {
		if pr, ok := r.(trafficrouting.PluginRouter); ok {
			st.Verifications[pr.Plugin()] = Verification{Weight: weight, Additional: extra, Verified: w.verify(pr.Plugin(), weight)}
		}
	}
}

// pluginWorld is an Istio canary that also names a router plugin.
func pluginWorld(t *testing.T, steps ...v1alpha1.CanaryStep) *world {
	w := istioWorld(t, steps...)
	w.ro.Spec.Strategy.Canary.TrafficRouting.Plugins = map[string]json.RawMessage{routerPlugin: json.RawMessage(`{}`)}
	w.routers = append(w.routers, pluginrouter.New(routerPlugin))
	return w
}

// takeCalls returns the calls made since the last take, described.
func (w *world) takeCalls() string {
	var out []string
	for _, c := range w.calls {
		if c.Plugin != routerPlugin {
			w.t.Fatalf("call to %q", c.Plugin)
		}
		out = append(out, strings.TrimPrefix(c.String(), routerPlugin+"."))
	}
	w.calls = nil
	return strings.Join(out, " ")
}

func TestAPluginRouterIsToldEachSplitNextToABuiltInRouter(t *testing.T) {
	w := pluginWorld(t, setWeight(10), pauseFor(""), setWeight(50), pauseFor(""))
	w.settle()
	stable := w.hash()
	w.takeCalls()
	w.setImage("demo:v2")
	w.settle()
	w.expectStep(1)
	w.expectWeights(90, 10)
	calls := w.takeCalls()
	want := `SetWeight(10)`
	if !strings.HasSuffix(calls, `UpdateHash(canary "`+w.hash()+`", stable "`+stable+`") `+want) {
		t.Fatalf("calls %q, want the last ones to be UpdateHash then %s", calls, want)
	}
	if !strings.HasPrefix(calls, "RemoveManagedRoutes") {
		t.Fatalf("calls %q: while the canary has no available pod, managed routes go first", calls)
	}
	w.promote()
	w.settle()
	w.expectWeights(50, 50)
	if calls := w.takeCalls(); !strings.HasSuffix(calls, "SetWeight(50)") || strings.Contains(calls, "RemoveManagedRoutes") {
		t.Fatalf("after the promotion to step 3 calls %q, want SetWeight(50) and no route removal", calls)
	}
	w.ro.Status.Abort = true
	w.step()
	if calls := w.takeCalls(); calls != `RemoveManagedRoutes UpdateHash(canary "`+w.hash()+`", stable "`+stable+`") SetWeight(0)` {
		t.Fatalf("on abort calls %q", calls)
	}
}

func TestAPluginRouterGetsTheCurrentStepsRoutesFromTheSecondRevision(t *testing.T) {
	header := v1alpha1.CanaryStep{SetHeaderRoute: &v1alpha1.SetHeaderRoute{Name: "h", Match: []v1alpha1.HeaderRoutingMatch{{HeaderName: "x", HeaderValue: &v1alpha1.StringMatch{Exact: "1"}}}}}
	w := pluginWorld(t, setWeight(10), header, pauseFor(""))
	w.ro.Spec.Strategy.Canary.TrafficRouting.ManagedRoutes = []v1alpha1.ManagedRoute{{Name: "h"}}
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
	if calls := w.takeCalls(); strings.Contains(calls, "SetHeaderRoute") {
		t.Fatalf("first revision: calls %q, want no header route", calls)
	}
	w.setImage("demo:v2")
	w.settle()
	w.expectStep(2)
	calls := w.takeCalls()
	if !strings.Contains(calls, `SetHeaderRoute UpdateHash`) {
		t.Fatalf("calls %q, want SetHeaderRoute before UpdateHash while the step is current", calls)
	}
	for _, c := range w.calls {
		if c.Method == trafficrouting.SetHeaderRoute && c.HeaderRoute.Name != "h" {
			t.Fatalf("header route %+v", c.HeaderRoute)
		}
	}
}

func TestAPluginRouterSetsTheWeightBackBeforeTheHashMovesToAnEmptyCanary(t *testing.T) {
	w := pluginWorld(t, setWeight(25), pauseFor(""))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.expectWeights(75, 25)
	w.takeCalls()
	w.setImage("demo:v3")
	w.broken[w.hash()] = true
	w.step() // the new revision starts at step 0
	w.takeCalls()
	w.step()
	calls := w.takeCalls()
	if !strings.HasPrefix(calls, `RemoveManagedRoutes SetWeight(0) UpdateHash(canary "`+w.hash()+`"`) || !strings.HasSuffix(calls, "SetWeight(0)") {
		t.Fatalf("calls %q, want the weight reset before UpdateHash names the new canary", calls)
	}
}

func TestAnUnverifiedWeightHoldsTheStepAndIsRetried(t *testing.T) {
	w := pluginWorld(t, setWeight(20), pauseFor(""))
	verified := false
	w.verify = func(_ string, weight int32) *bool {
		ok := weight == 0 || verified
		return &ok
	}
	w.settle()
	w.setImage("demo:v2")
	var p Plan
	for i := 0; i < 10; i++ {
		p = w.step()
	}
	w.expectStep(0)
	wt := w.ro.Status.Canary.Weights
	if wt == nil || wt.Canary.Weight != 20 || wt.Verified == nil || *wt.Verified {
		t.Fatalf("weights %+v, want 20 not verified", wt)
	}
	if p.RequeueAfter != DefaultVerifyRetryInterval {
		t.Fatalf("requeue after %v, want %v", p.RequeueAfter, DefaultVerifyRetryInterval)
	}
	verified = true
	w.advance(10 * time.Second)
	w.settle()
	w.expectStep(1)
	if wt := w.ro.Status.Canary.Weights; wt.Verified == nil || !*wt.Verified {
		t.Fatalf("weights %+v, want verified", wt)
	}
}

func TestAPluginThatCannotVerifyLeavesVerifiedUnsetAndStepsGoOn(t *testing.T) {
	w := pluginWorld(t, setWeight(20), pauseFor(""))
	w.verify = func(string, int32) *bool { return nil }
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.expectStep(1)
	if wt := w.ro.Status.Canary.Weights; wt == nil || wt.Verified != nil {
		t.Fatalf("weights %+v, want verified unset", wt)
	}
}

func TestAVerifyErrorIsReportedAndDoesNotHoldTheStep(t *testing.T) {
	w := pluginWorld(t, setWeight(20), pauseFor(""))
	w.settle()
	w.setImage("demo:v2")
	w.step()
	st := w.state()
	st.Verifications = map[string]Verification{routerPlugin: {Err: errString("connection refused")}}
	p := Compute(st)
	found := false
	for _, e := range p.Events {
		found = found || (e.Reason == v1alpha1.EventWeightVerifyError && e.Message == "Failed to verify weight: connection refused" && e.Warning)
	}
	if !found {
		t.Fatalf("events %+v, want a WeightVerifyError", p.Events)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestARouterPluginThatIsNotConfiguredIsInvalidSpecAndNothingMoves(t *testing.T) {
	w := istioWorld(t, setWeight(25), pauseFor(""))
	st := w.state()
	st.UnsupportedRouters = []string{"plugins.example.com/missing"}
	p := Compute(st)
	want := `The Rollout "demo" is invalid: spec.strategy.canary.trafficRouting.plugins: Invalid value: "example.com/missing": traffic router plugin example.com/missing is not configured in the trafficRouterPlugins of the argo-rollouts-config ConfigMap`
	if c := condition(p.Status, v1alpha1.InvalidSpec); c == nil || c.Message != want || len(p.RouterWrites) != 0 {
		t.Fatalf("InvalidSpec %+v, router writes %d; want %q", c, len(p.RouterWrites), want)
	}
}

func TestTheRolloutIsNotPromotedUntilTheFullWeightIsVerified(t *testing.T) {
	w := pluginWorld(t, setWeight(20))
	fullVerified := false
	w.verify = func(_ string, weight int32) *bool {
		ok := weight != 100 || fullVerified
		return &ok
	}
	w.settle()
	stable := w.hash()
	w.setImage("demo:v2")
	for i := 0; i < 12; i++ {
		w.step()
	}
	if w.ro.Status.StableRS != stable {
		t.Fatalf("promoted to %s while the full weight was not verified", w.ro.Status.StableRS)
	}
	if wt := w.ro.Status.Canary.Weights; wt == nil || wt.Canary.Weight != 100 || wt.Verified == nil || *wt.Verified {
		t.Fatalf("weights %+v, want 100 not verified", wt)
	}
	fullVerified = true
	w.advance(DefaultVerifyRetryInterval)
	w.settle()
	w.expectPhase(v1alpha1.RolloutPhaseHealthy, "")
}

func TestWhileTheStableCannotTakeTheTrafficAPluginIsOnlyToldToRemoveItsRoutes(t *testing.T) {
	w := pluginWorld(t, setWeight(50), pauseFor(""))
	w.settle()
	w.setImage("demo:v2")
	w.settle()
	w.takeCalls()
	// Half the stable pods are gone: it cannot take the traffic back.
	for name, rs := range w.rss {
		if rs.Labels[v1alpha1.LabelPodTemplateHash] != w.hash() {
			w.broken[rs.Labels[v1alpha1.LabelPodTemplateHash]] = true
			w.rss[name].Status.AvailableReplicas = 1
		}
	}
	w.ro.Status.Abort = true
	st := w.state()
	p := Compute(st)
	var calls []string
	for _, rw := range p.RouterWrites {
		if rw.Op == trafficrouting.PluginCall {
			calls = append(calls, string(rw.Call.Method))
		} else {
			t.Fatalf("a built-in router wrote %v while the split is held", rw.Ref)
		}
	}
	if strings.Join(calls, " ") != "RemoveManagedRoutes" {
		t.Fatalf("calls %v, want only RemoveManagedRoutes", calls)
	}
}

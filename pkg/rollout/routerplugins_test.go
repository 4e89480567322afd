package rollout

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/client-go/tools/record"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
	"github.com/serin-dev/serin/pkg/trafficrouting/pluginrouter"
)

// fakePlugins records calls and fails those whose method is in fail.
type fakePlugins struct {
	calls    []string
	fail     map[trafficrouting.Method]error
	verified *bool
}

func (f *fakePlugins) Call(_ context.Context, _ *v1alpha1.Rollout, c trafficrouting.Call) error {
	f.calls = append(f.calls, c.String())
	return f.fail[c.Method]
}

func (f *fakePlugins) VerifyWeight(_ context.Context, _ *v1alpha1.Rollout, plugin string, weight int32, _ []v1alpha1.WeightDestination) (*bool, error) {
	f.calls = append(f.calls, plugin+".VerifyWeight")
	return f.verified, nil
}

func pluginCalls(plugin string, methods ...trafficrouting.Method) []trafficrouting.Write {
	var out []trafficrouting.Write
	for _, m := range methods {
		out = append(out, trafficrouting.Write{Op: trafficrouting.PluginCall, Call: &trafficrouting.Call{Plugin: plugin, Method: m, Weight: 10}})
	}
	return out
}

func TestPluginCallsAreMadeInOrderAndAFailureStopsThemWithAnEvent(t *testing.T) {
	plugins := &fakePlugins{fail: map[trafficrouting.Method]error{trafficrouting.UpdateHash: errors.New("plugin crashed")}}
	recorder := record.NewFakeRecorder(10)
	r := NewReconciler(Options{RouterPlugins: plugins, Recorder: recorder})
	ro := &v1alpha1.Rollout{}
	err := r.applyRouterWrites(context.Background(), ro, pluginCalls("p", trafficrouting.RemoveManagedRoutes, trafficrouting.UpdateHash, trafficrouting.SetWeight))
	if got := strings.Join(plugins.calls, " "); got != "p.RemoveManagedRoutes p.UpdateHash(canary \"\", stable \"\")" {
		t.Fatalf("calls %q: want them in order, none after the failure", got)
	}
	if err == nil || !strings.Contains(err.Error(), "plugin crashed") {
		t.Fatalf("error %v, want the plugin's", err)
	}
	select {
	case e := <-recorder.Events:
		if want := "Warning TrafficRoutingError p.UpdateHash(canary \"\", stable \"\"): plugin crashed"; e != want {
			t.Fatalf("event %q, want %q", e, want)
		}
	default:
		t.Fatal("no TrafficRoutingError event")
	}
}

func TestPluginCallsNeedNoDynamicClient(t *testing.T) {
	plugins := &fakePlugins{}
	r := NewReconciler(Options{RouterPlugins: plugins, Recorder: record.NewFakeRecorder(10)})
	if err := r.applyRouterWrites(context.Background(), &v1alpha1.Rollout{}, pluginCalls("p", trafficrouting.SetWeight)); err != nil {
		t.Fatal(err)
	}
	if len(plugins.calls) != 1 {
		t.Fatalf("calls %v", plugins.calls)
	}
}

func TestEachPluginRouterIsAskedToVerifyTheRecordedSplit(t *testing.T) {
	yes := true
	plugins := &fakePlugins{verified: &yes}
	r := NewReconciler(Options{RouterPlugins: plugins})
	ro := &v1alpha1.Rollout{}
	ro.Status.Canary.Weights = &v1alpha1.TrafficWeights{Canary: v1alpha1.WeightDestination{Weight: 30}}
	st := plan.State{Rollout: ro, Routers: []trafficrouting.Router{pluginrouter.New("a"), pluginrouter.New("b")}}
	r.verifyWeights(context.Background(), &st)
	if got := strings.Join(plugins.calls, " "); got != "a.VerifyWeight b.VerifyWeight" {
		t.Fatalf("calls %q", got)
	}
	if v := st.Verifications["b"]; v.Weight != 30 || v.Verified == nil || !*v.Verified {
		t.Fatalf("verification %+v, want weight 30 verified", v)
	}
}

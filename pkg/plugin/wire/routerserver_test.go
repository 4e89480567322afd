package wire

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/config"
)

// routerImpl is a RouterPlugin that records each call.
type routerImpl struct{ log []string }

func (r *routerImpl) InitPlugin() RpcError { return RpcError{} }
func (r *routerImpl) add(s string) RpcError {
	r.log = append(r.log, s)
	return RpcError{}
}
func (r *routerImpl) UpdateHash(ro *v1alpha1.Rollout, c, s string, _ []v1alpha1.WeightDestination) RpcError {
	return r.add(ro.Name + " UpdateHash " + c + " " + s)
}
func (r *routerImpl) SetWeight(ro *v1alpha1.Rollout, w int32, extra []v1alpha1.WeightDestination) RpcError {
	if w < 0 {
		return RpcError{ErrorString: "negative weight"}
	}
	return r.add(ro.Name + " SetWeight " + string(rune('0'+w/10)) + " " + extra[0].ServiceName)
}
func (r *routerImpl) SetHeaderRoute(_ *v1alpha1.Rollout, h *v1alpha1.SetHeaderRoute) RpcError {
	return r.add("SetHeaderRoute " + h.Name)
}
func (r *routerImpl) SetMirrorRoute(_ *v1alpha1.Rollout, m *v1alpha1.SetMirrorRoute) RpcError {
	return r.add("SetMirrorRoute " + m.Name)
}
func (r *routerImpl) RemoveManagedRoutes(*v1alpha1.Rollout) RpcError {
	return r.add("RemoveManagedRoutes")
}
func (r *routerImpl) VerifyWeight(_ *v1alpha1.Rollout, w int32, _ []v1alpha1.WeightDestination) (RpcVerified, RpcError) {
	if w == 30 {
		return Verified, RpcError{}
	}
	return NotVerified, RpcError{}
}
func (r *routerImpl) Type() string { return "Recorder" }

func TestRouterServerServesARouterPluginToRouterClient(t *testing.T) {
	impl := &routerImpl{}
	c := RouterClient{C: serve(t, config.KindTrafficRouter, &RouterServer{Impl: impl})}
	ctx := context.Background()
	extra := []v1alpha1.WeightDestination{{ServiceName: "exp", Weight: 5}}
	_ = c.RemoveManagedRoutes(ctx, rollout())
	_ = c.SetHeaderRoute(ctx, rollout(), &v1alpha1.SetHeaderRoute{Name: "h"})
	_ = c.SetMirrorRoute(ctx, rollout(), &v1alpha1.SetMirrorRoute{Name: "m"})
	_ = c.UpdateHash(ctx, rollout(), "new", "old", extra)
	_ = c.SetWeight(ctx, rollout(), 30, extra)
	want := "RemoveManagedRoutes,SetHeaderRoute h,SetMirrorRoute m,shop UpdateHash new old,shop SetWeight 3 exp"
	if got := strings.Join(impl.log, ","); got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if err := c.SetWeight(ctx, rollout(), -1, extra); err == nil || err.Error() != "negative weight" {
		t.Fatalf("error %v, want the plugin's", err)
	}
	if v, err := c.VerifyWeight(ctx, rollout(), 30, nil); err != nil || v == nil || !*v {
		t.Fatalf("verify 30: %v %v", v, err)
	}
	if v, _ := c.VerifyWeight(ctx, rollout(), 10, nil); v == nil || *v {
		t.Fatalf("verify 10: %v", v)
	}
	if typ, err := c.Type(ctx); err != nil || typ != "Recorder" {
		t.Fatalf("type %q %v", typ, err)
	}
}

// stepImpl is a StepPlugin that counts its runs in its status.
type stepImpl struct{}

func (stepImpl) InitPlugin() RpcError { return RpcError{} }
func (stepImpl) Run(ro *v1alpha1.Rollout, sc *RpcStepContext) (RpcStepResult, RpcError) {
	return RpcStepResult{Phase: StepPhaseSuccessful, Message: ro.Name + " " + sc.PluginName, Status: json.RawMessage(`{"done":true}`)}, RpcError{}
}
func (stepImpl) Terminate(*v1alpha1.Rollout, *RpcStepContext) (RpcStepResult, RpcError) {
	return RpcStepResult{Phase: StepPhaseSuccessful}, RpcError{}
}
func (stepImpl) Abort(*v1alpha1.Rollout, *RpcStepContext) (RpcStepResult, RpcError) {
	return RpcStepResult{}, RpcError{ErrorString: "cannot undo"}
}
func (stepImpl) Type() string { return "Counter" }

func TestStepServerServesAStepPluginToStepClient(t *testing.T) {
	c := StepClient{C: serve(t, config.KindStep, &StepServer{Impl: stepImpl{}})}
	ctx := context.Background()
	sc := &RpcStepContext{PluginName: "acme/count"}
	if res, err := c.Run(ctx, rollout(), sc); err != nil || res.Phase != StepPhaseSuccessful || res.Message != "shop acme/count" || string(res.Status) != `{"done":true}` {
		t.Fatalf("Run %+v %v", res, err)
	}
	if res, err := c.Terminate(ctx, rollout(), sc); err != nil || res.Phase != StepPhaseSuccessful {
		t.Fatalf("Terminate %+v %v", res, err)
	}
	if _, err := c.Abort(ctx, rollout(), sc); err == nil || err.Error() != "cannot undo" {
		t.Fatalf("Abort error %v", err)
	}
}

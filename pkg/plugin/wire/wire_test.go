package wire

import (
	"context"
	"encoding/json"
	"errors"
	"net/rpc"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/config"
)

// conn is a Caller over a plain net/rpc connection.
type conn struct{ c *rpc.Client }

func (c conn) Call(_ context.Context, method string, args, reply any) error {
	return c.c.Call(method, args, reply)
}

// serve connects a client to server over go-plugin's in-process test
// connection, dispensed under kind's name.
func serve(t *testing.T, kind config.Kind, server any) Caller {
	t.Helper()
	client, _ := goplugin.TestPluginRPCConn(t, PluginSet(kind, server), nil)
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(DispenseNames[kind])
	if err != nil {
		t.Fatal(err)
	}
	return conn{c: raw.(*rpc.Client)}
}

func rollout() *v1alpha1.Rollout {
	return &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "prod"},
		Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{CanaryService: "shop-canary"}}}}
}

func TestRouterCallsReachAPluginWithUpstreamsArgumentsAndErrors(t *testing.T) {
	srv := &routerServer{verified: NotImplemented}
	c := RouterClient{C: serve(t, config.KindTrafficRouter, srv)}
	ctx := context.Background()
	extra := []v1alpha1.WeightDestination{{ServiceName: "exp", Weight: 5}}
	if err := c.UpdateHash(ctx, rollout(), "abc", "def", extra); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWeight(ctx, rollout(), 30, extra); err != nil {
		t.Fatal(err)
	}
	_ = c.SetHeaderRoute(ctx, rollout(), &v1alpha1.SetHeaderRoute{Name: "h"})
	_ = c.SetMirrorRoute(ctx, rollout(), &v1alpha1.SetMirrorRoute{Name: "m"})
	_ = c.RemoveManagedRoutes(ctx, rollout())
	verified, err := c.VerifyWeight(ctx, rollout(), 30, nil)
	if err != nil || verified != nil {
		t.Fatalf("VerifyWeight of a router that cannot verify: %v %v", verified, err)
	}
	hash := srv.got[0].(*UpdateHashArgs)
	if hash.Rollout.Spec.Strategy.Canary.CanaryService != "shop-canary" || hash.CanaryHash != "abc" || hash.StableHash != "def" || hash.AdditionalDestinations[0].Weight != 5 {
		t.Errorf("UpdateHash got %+v", hash)
	}
	if w := srv.got[1].(*SetWeightAndVerifyWeightArgs); w.DesiredWeight != 30 || w.Rollout.Name != "shop" {
		t.Errorf("SetWeight got %+v", w)
	}
	if h := srv.got[2].(*SetHeaderArgs); h.SetHeaderRoute.Name != "h" {
		t.Errorf("SetHeaderRoute got %+v", h)
	}
	if m := srv.got[3].(*SetMirrorArgs); m.SetMirrorRoute.Name != "m" {
		t.Errorf("SetMirrorRoute got %+v", m)
	}
	if r := srv.got[4].(*RemoveManagedRoutesArgs); r.Rollout.Namespace != "prod" {
		t.Errorf("RemoveManagedRoutes got %+v", r)
	}

	srv.err, srv.verified = RpcError{ErrorString: "route not found"}, Verified
	err = c.SetWeight(ctx, rollout(), 50, nil)
	var rpcErr RpcError
	if !errors.As(err, &rpcErr) || err.Error() != "route not found" {
		t.Errorf("SetWeight error %v", err)
	}
	if _, err := c.VerifyWeight(ctx, rollout(), 50, nil); err == nil {
		t.Error("VerifyWeight hid the plugin's error")
	}
	srv.err = RpcError{}
	if v, err := c.VerifyWeight(ctx, rollout(), 50, nil); err != nil || v == nil || !*v {
		t.Errorf("VerifyWeight %v %v", v, err)
	}
	if typ, err := c.Type(ctx); err != nil || typ != "Sample" {
		t.Errorf("Type %q %v", typ, err)
	}
}

func TestStepCallsCarryTheContextAndReturnTheResult(t *testing.T) {
	srv := &stepServer{result: RpcStepResult{Phase: StepPhaseRunning, Message: "waiting", RequeueAfter: 30 * time.Second, Status: json.RawMessage(`{"n":1}`)}}
	c := StepClient{C: serve(t, config.KindStep, srv)}
	ctx := context.Background()
	sc := &RpcStepContext{PluginName: "acme/approve", Config: json.RawMessage(`{"who":"ops"}`), Status: json.RawMessage(`{"n":0}`)}
	res, err := c.Run(ctx, rollout(), sc)
	if err != nil || res.Phase != StepPhaseRunning || res.RequeueAfter != 30*time.Second || string(res.Status) != `{"n":1}` || res.Message != "waiting" {
		t.Fatalf("Run %+v %v", res, err)
	}
	run := srv.got[0].(*StepRunArgs)
	if run.Context.PluginName != "acme/approve" || string(run.Context.Config) != `{"who":"ops"}` || string(run.Context.Status) != `{"n":0}` || run.Rollout.Name != "shop" {
		t.Errorf("Run got %+v", run.Context)
	}
	if _, err := c.Terminate(ctx, rollout(), sc); err != nil {
		t.Error(err)
	}
	if _, ok := srv.got[1].(*StepTerminateArgs); !ok {
		t.Errorf("Terminate sent %T", srv.got[1])
	}
	srv.err = RpcError{ErrorString: "cannot revert"}
	if _, err := c.Abort(ctx, rollout(), sc); err == nil || err.Error() != "cannot revert" {
		t.Errorf("Abort error %v", err)
	}
	if _, ok := srv.got[2].(*StepAbortArgs); !ok {
		t.Errorf("Abort sent %T", srv.got[2])
	}
	srv.err, srv.result.Phase = RpcError{}, "Paused"
	if _, err := c.Run(ctx, rollout(), sc); err == nil || !strings.Contains(err.Error(), `"Paused"`) {
		t.Errorf("unknown phase: %v", err)
	}
}

func TestMetricCallsRoundTripThroughMetricServer(t *testing.T) {
	impl := &metricImpl{}
	c := MetricClient{C: serve(t, config.KindMetricProvider, &MetricServer{Impl: impl})}
	ctx := context.Background()
	if err := Init(ctx, c.C); err != nil {
		t.Fatal(err)
	}
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "run"}}
	m := v1alpha1.Metric{Name: "rate", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{"acme/metrics": json.RawMessage(`{"q":1}`)}}}
	got, err := c.Run(ctx, run, m)
	if err != nil || got.Phase != v1alpha1.AnalysisPhaseSuccessful || got.Value != `run/rate:{"q":1}` {
		t.Fatalf("Run %+v %v", got, err)
	}
	if got, err := c.Resume(ctx, run, m, got); err != nil || got.Phase != v1alpha1.AnalysisPhaseFailed {
		t.Errorf("Resume %+v %v", got, err)
	}
	if got, err := c.Terminate(ctx, run, m, v1alpha1.Measurement{}); err != nil || got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Errorf("Terminate %+v %v", got, err)
	}
	if err := c.GarbageCollect(ctx, run, m, 7); err == nil || err.Error() != "cannot collect" || impl.collected != 7 {
		t.Errorf("GarbageCollect %v, limit %d", err, impl.collected)
	}
	if md, err := c.GetMetadata(ctx, m); err != nil || md["query"] != "rate" {
		t.Errorf("GetMetadata %v %v", md, err)
	}
}

// TestGobNamesAreUpstreams: a plugin decodes an argument only under the
// name Argo Rollouts registered it with.
func TestGobNamesAreUpstreams(t *testing.T) {
	want := []string{"GarbageCollectArgs", "GetMetadataArgs", "RemoveManagedRoutesArgs", "RpcError", "RunArgs", "SetHeaderArgs",
		"SetMirrorArgs", "SetWeightAndVerifyWeightArgs", "TerminateAndResumeArgs", "UpdateHashArgs", "step.AbortArgs", "step.RunArgs", "step.TerminateArgs"}
	var got []string
	for name := range GobNames {
		got = append(got, name)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("gob names %v, want %v", got, want)
	}
	if h := Handshake(config.KindStep); h.ProtocolVersion != 1 || h.MagicCookieKey != "ARGO_ROLLOUTS_RPC_PLUGIN" || h.MagicCookieValue != "step" {
		t.Errorf("step handshake %+v", h)
	}
	if Handshake(config.KindTrafficRouter).MagicCookieValue != "trafficrouter" || Handshake(config.KindMetricProvider).MagicCookieValue != "metricprovider" {
		t.Error("router or metric cookie differs from upstream's")
	}
}

// upstreamFields are the Go field names of Argo Rollouts' wire structs
// (utils/plugin/types and the rpc packages of each plugin kind).
var upstreamFields = map[reflect.Type][]string{
	reflect.TypeFor[RpcError]():                     {"ErrorString"},
	reflect.TypeFor[RpcStepContext]():               {"PluginName", "Config", "Status"},
	reflect.TypeFor[RpcStepResult]():                {"Phase", "Message", "RequeueAfter", "Status"},
	reflect.TypeFor[MetricRunArgs]():                {"AnalysisRun", "Metric"},
	reflect.TypeFor[TerminateAndResumeArgs]():       {"AnalysisRun", "Metric", "Measurement"},
	reflect.TypeFor[GarbageCollectArgs]():           {"AnalysisRun", "Metric", "Limit"},
	reflect.TypeFor[GetMetadataArgs]():              {"Metric"},
	reflect.TypeFor[UpdateHashArgs]():               {"Rollout", "CanaryHash", "StableHash", "AdditionalDestinations"},
	reflect.TypeFor[SetWeightAndVerifyWeightArgs](): {"Rollout", "DesiredWeight", "AdditionalDestinations"},
	reflect.TypeFor[SetHeaderArgs]():                {"Rollout", "SetHeaderRoute"},
	reflect.TypeFor[SetMirrorArgs]():                {"Rollout", "SetMirrorRoute"},
	reflect.TypeFor[RemoveManagedRoutesArgs]():      {"Rollout"},
	reflect.TypeFor[VerifyWeightResponse]():         {"Verified", "Err"},
	reflect.TypeFor[StepRunArgs]():                  {"Rollout", "Context"},
	reflect.TypeFor[StepTerminateArgs]():            {"Rollout", "Context"},
	reflect.TypeFor[StepAbortArgs]():                {"Rollout", "Context"},
	reflect.TypeFor[StepResponse]():                 {"Result", "Error"},
}

func TestWireStructsHaveUpstreamsGoFieldNames(t *testing.T) {
	for typ, want := range upstreamFields {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s fields %v, want %v", typ.Name(), got, want)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2/ktesting"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/builtin"
	"github.com/serin-dev/serin/pkg/plugin/builtin/approval"
	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/host"
	"github.com/serin-dev/serin/pkg/plugin/install"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

func testPlugins(t *testing.T, bins ...install.Binary) plugins {
	h := host.New(host.Options{Plugins: install.Installed(bins)})
	t.Cleanup(h.Shutdown)
	return plugins{host: h, builtin: builtin.Default()}
}

func TestStepPluginsResolveBuiltInsFirstThenTheConfiguration(t *testing.T) {
	p := stepPlugins{testPlugins(t,
		install.Binary{Item: config.Item{Kind: config.KindStep, Name: "acme/off", Disabled: true}},
		install.Binary{Item: config.Item{Kind: config.KindStep, Name: "acme/refused"}, Err: errors.New("sha256 mismatch")},
	)}
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
		v1alpha1.AnnotationRevision: "2", approval.DefaultApprovedAnnotation: "2"}}}
	call := func(name string) plan.StepPluginAnswer {
		return p.Call(context.Background(), ro, plan.StepPluginCall{Name: name, Operation: v1alpha1.StepPluginOperationRun, Config: json.RawMessage(`{}`)})
	}
	if a := call(approval.Name); a.Phase != v1alpha1.StepPluginPhaseSuccessful || a.Err != nil || a.Unavailable != nil {
		t.Errorf("built-in approval: %+v", a)
	}
	if a := call("acme/off"); !a.Disabled || a.Unavailable != nil {
		t.Errorf("disabled: %+v", a)
	}
	if a := call("acme/refused"); a.Unavailable == nil || a.Unavailable.Error() != "step plugin acme/refused is not usable: sha256 mismatch" {
		t.Errorf("refused binary: %+v", a)
	}
	a := call("acme/missing")
	if a.Unavailable == nil || !strings.Contains(a.Unavailable.Error(), "step plugin acme/missing is not configured in the stepPlugins of the argo-rollouts-config ConfigMap") {
		t.Errorf("missing: %+v", a)
	}
}

func TestRouterPluginCallsToARefusedBinaryFailWithTheReason(t *testing.T) {
	pl := testPlugins(t, install.Binary{Item: config.Item{Kind: config.KindTrafficRouter, Name: "acme/router"}, Err: errors.New("sha256 mismatch")})
	if !pl.routerConfigured("acme/router") || pl.routerConfigured("acme/other") {
		t.Fatal("configured routers are not told apart")
	}
	err := routerPlugins{pl}.Call(context.Background(), &v1alpha1.Rollout{}, trafficrouting.Call{Plugin: "acme/router", Method: trafficrouting.SetWeight, Weight: 10})
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Fatalf("error %v, want the refusal", err)
	}
}

func TestTheGatewayAPIChoiceIsLogged(t *testing.T) {
	for configured, want := range map[bool]string{
		true:  "its binary routes Rollouts that name it, instead of Serin's built-in Gateway API router",
		false: "Serin's built-in Gateway API router routes Rollouts",
	} {
		var bins []install.Binary
		if configured {
			bins = append(bins, install.Binary{Item: config.Item{Kind: config.KindTrafficRouter, Name: "argoproj-labs/gatewayAPI"}})
		}
		logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true)))
		logGatewayAPIRouter(logger, testPlugins(t, bins...))
		if logs := logger.GetSink().(ktesting.Underlier).GetBuffer().String(); !strings.Contains(logs, want) {
			t.Errorf("configured %v: logs %q lack %q", configured, logs, want)
		}
	}
}

func TestVerifyRetryIntervalComesFromArgoRolloutsVariable(t *testing.T) {
	logger := ktesting.NewLogger(t, ktesting.NewConfig())
	for value, want := range map[string]time.Duration{"": 0, "5": 5 * time.Second, " 30 ": 30 * time.Second, "0": 0, "-1": 0, "1m": 0} {
		lookup := func(key string) (string, bool) {
			return value, key == envVerifyRetryInterval && value != ""
		}
		if got := verifyRetryInterval(lookup, logger); got != want {
			t.Errorf("%q: %v, want %v", value, got, want)
		}
	}
}

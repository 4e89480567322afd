package main

import (
	"strings"
	"testing"

	"k8s.io/klog/v2/ktesting"

	"github.com/serin-dev/serin/pkg/plugin/config"
)

func TestThePluginConfigurationIsLoggedByKind(t *testing.T) {
	logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true)))
	cfg, err := config.Parse(map[string]string{
		"trafficRouterPlugins":  "- name: argoproj-labs/contour\n  location: file:///plugins/contour\n",
		"metricProviderPlugins": "- name: acme/metrics\n  location: file:///plugins/metrics\n",
		"someFutureSetting":     "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	logPluginConfig(logger, cfg)
	logs := logger.GetSink().(ktesting.Underlier).GetBuffer().String()
	for _, want := range []string{"someFutureSetting", "Plugins configured", "acme/metrics", "TrafficRouter", "argoproj-labs/contour"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "not run") || strings.Contains(logs, "InvalidSpec") {
		t.Errorf("plugins are reported as unsupported:\n%s", logs)
	}
}

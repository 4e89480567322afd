package main

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
)

func configMap(data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: controllerConfigMap, Namespace: "argo-rollouts"}, Data: data}
}

func TestTheControllerConfigMapIsReadWithItsPluginsAndUnknownKeys(t *testing.T) {
	kube := kubefake.NewClientset(configMap(map[string]string{
		"trafficRouterPlugins":  "- name: argoproj-labs/contour\n  location: file:///plugins/contour\n",
		"metricProviderPlugins": "[]",
		"someFutureSetting":     "x",
	}))
	cfg, err := readControllerConfig(context.Background(), kube, "argo-rollouts")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.plugins["trafficRouterPlugins"]; len(got) != 1 || got[0].Name != "argoproj-labs/contour" || got[0].Location != "file:///plugins/contour" {
		t.Fatalf("traffic router plugins %+v", got)
	}
	if strings.Join(cfg.unknown, ",") != "someFutureSetting" {
		t.Fatalf("unknown keys %v", cfg.unknown)
	}
}

func TestAMissingControllerConfigMapIsAnEmptyConfiguration(t *testing.T) {
	cfg, err := readControllerConfig(context.Background(), kubefake.NewClientset(), "argo-rollouts")
	if err != nil || len(cfg.plugins) != 0 || len(cfg.unknown) != 0 {
		t.Fatalf("config %+v, err %v", cfg, err)
	}
}

func TestAPluginListThatDoesNotParseIsAnErrorNamingTheKey(t *testing.T) {
	kube := kubefake.NewClientset(configMap(map[string]string{"stepPlugins": "name: not-a-list"}))
	_, err := readControllerConfig(context.Background(), kube, "argo-rollouts")
	if err == nil || !strings.Contains(err.Error(), "stepPlugins") || !strings.Contains(err.Error(), controllerConfigMap) {
		t.Fatalf("err %v, want one naming the ConfigMap and the key", err)
	}
}

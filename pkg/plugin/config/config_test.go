package config

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
)

func TestEveryKeyIsReadIntoItemsOfItsKind(t *testing.T) {
	cfg, err := Parse(map[string]string{
		"trafficRouterPlugins": "- name: argoproj-labs/contour\n  location: file:///plugins/contour\n  args: [--debug]\n",
		"metricProviderPlugins": `- name: acme/metrics
  location: https://example.com/metrics
  sha256: abc
  headersFrom:
  - secretRef:
      name: download-token
`,
		"stepPlugins":       "- name: acme/approve\n  location: file:///plugins/approve\n  disabled: true\n",
		"someFutureSetting": "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	router, ok := cfg.Lookup(KindTrafficRouter, "argoproj-labs/contour")
	if !ok || router.Location != "file:///plugins/contour" || strings.Join(router.Args, " ") != "--debug" {
		t.Errorf("router %+v %v", router, ok)
	}
	m, ok := cfg.Lookup(KindMetricProvider, "acme/metrics")
	if !ok || m.Sha256 != "abc" || len(m.HeadersFrom) != 1 || m.HeadersFrom[0].SecretRef.Name != "download-token" {
		t.Errorf("metric plugin %+v %v", m, ok)
	}
	if s, ok := cfg.Lookup(KindStep, "acme/approve"); !ok || !s.Disabled {
		t.Errorf("step plugin %+v %v", s, ok)
	}
	if _, ok := cfg.Lookup(KindStep, "acme/metrics"); ok {
		t.Error("a metric plugin was found as a step plugin")
	}
	if strings.Join(cfg.Unknown, ",") != "someFutureSetting" {
		t.Errorf("unknown keys %v", cfg.Unknown)
	}
}

func TestAKeyThatIsNotAListIsAnErrorNamingIt(t *testing.T) {
	_, err := Parse(map[string]string{"stepPlugins": "name: not-a-list"})
	if err == nil || !strings.Contains(err.Error(), "stepPlugins") || !strings.Contains(err.Error(), ConfigMapName) {
		t.Fatalf("err %v", err)
	}
}

func TestAMissingConfigMapIsAnEmptyConfiguration(t *testing.T) {
	cfg, err := Read(context.Background(), kubefake.NewClientset(), "argo-rollouts")
	if err != nil || len(cfg.Plugins) != 0 {
		t.Fatalf("%+v %v", cfg, err)
	}
}

func TestTheConfigMapIsReadFromTheGivenNamespace(t *testing.T) {
	kube := kubefake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: "rollouts"},
		Data:       map[string]string{"metricProviderPlugins": "- name: acme/m\n  location: file:///m\n"},
	})
	cfg, err := Read(context.Background(), kube, "rollouts")
	if err != nil || len(cfg.Names(KindMetricProvider)) != 1 {
		t.Fatalf("%+v %v", cfg, err)
	}
}

func TestPluginNamesSplitIntoDirectoryAndFile(t *testing.T) {
	if dir, file, err := SplitName("argoproj-labs/gatewayAPI"); err != nil || dir != "argoproj-labs" || file != "gatewayAPI" {
		t.Errorf("%q %q %v", dir, file, err)
	}
	for _, bad := range []string{"noslash", "a/b/c", "../x", "a/..", "", "a/"} {
		if _, _, err := SplitName(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

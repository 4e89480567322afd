package main

import (
	"context"
	"fmt"
	"slices"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"
)

// controllerConfigMap is the ConfigMap, in the controller's namespace, where
// Argo Rollouts reads its plugin configuration.
const controllerConfigMap = "argo-rollouts-config"

// pluginKeys are the keys of controllerConfigMap that Argo Rollouts reads.
var pluginKeys = []string{"trafficRouterPlugins", "metricProviderPlugins", "stepPlugins"}

// pluginEntry is one plugin of controllerConfigMap, as far as it is read here.
type pluginEntry struct {
	Name     string `json:"name"`
	Location string `json:"location"`
}

// controllerConfig is what controllerConfigMap says.
type controllerConfig struct {
	// plugins are the plugins configured under each key of pluginKeys.
	plugins map[string][]pluginEntry
	// unknown are the keys Serin does not read.
	unknown []string
}

// readControllerConfig reads controllerConfigMap once, at start-up. A
// missing ConfigMap is an empty configuration; a key that does not parse is
// an error naming it.
func readControllerConfig(ctx context.Context, kube kubernetes.Interface, namespace string) (controllerConfig, error) {
	cfg := controllerConfig{plugins: map[string][]pluginEntry{}}
	cm, err := kube.CoreV1().ConfigMaps(namespace).Get(ctx, controllerConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("reading ConfigMap %s/%s: %w", namespace, controllerConfigMap, err)
	}
	for key, value := range cm.Data {
		if !slices.Contains(pluginKeys, key) {
			cfg.unknown = append(cfg.unknown, key)
			continue
		}
		var entries []pluginEntry
		if err := yaml.Unmarshal([]byte(value), &entries); err != nil {
			return cfg, fmt.Errorf("ConfigMap %s/%s, key %s: %w", namespace, controllerConfigMap, key, err)
		}
		cfg.plugins[key] = entries
	}
	sort.Strings(cfg.unknown)
	return cfg, nil
}

// logControllerConfig says once what of the configuration Serin does not
// act on: unknown keys, and plugins (which this version does not run; a
// Rollout that uses one reports InvalidSpec).
func logControllerConfig(logger klog.Logger, cfg controllerConfig) {
	if len(cfg.unknown) > 0 {
		logger.Info("Keys of "+controllerConfigMap+" that Serin does not read are ignored", "keys", cfg.unknown)
	}
	for _, key := range pluginKeys {
		var names []string
		for _, p := range cfg.plugins[key] {
			names = append(names, p.Name)
		}
		if len(names) > 0 {
			logger.Info("Plugins are configured in "+controllerConfigMap+"; this version of Serin does not run plugins yet, and Rollouts that use them report InvalidSpec", "key", key, "plugins", names)
		}
	}
}

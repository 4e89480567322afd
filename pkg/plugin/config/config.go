// Package config reads the plugin lists of the argo-rollouts-config
// ConfigMap: which traffic-router, metric-provider and step plugins exist,
// where their binaries are, and how to fetch them.
package config

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// ConfigMapName is the ConfigMap, in the controller's namespace, that holds
// the plugin configuration.
const ConfigMapName = "argo-rollouts-config"

// Kind is the kind of a plugin; its values are Argo Rollouts' plugin types.
type Kind string

const (
	KindTrafficRouter  Kind = "TrafficRouter"
	KindMetricProvider Kind = "MetricProvider"
	KindStep           Kind = "Step"
)

// Keys maps each key of the ConfigMap to the kind of plugin it lists.
var Keys = map[string]Kind{
	"trafficRouterPlugins":  KindTrafficRouter,
	"metricProviderPlugins": KindMetricProvider,
	"stepPlugins":           KindStep,
}

// Item is one configured plugin.
type Item struct {
	// Name is how Rollouts and templates refer to the plugin, in the form
	// <namespace>/<name>.
	Name string `json:"name"`
	// Location is a file:// or http(s):// URL of the binary.
	Location string `json:"location"`
	// Sha256 is the expected hex SHA-256 of the binary; empty skips the check.
	Sha256 string `json:"sha256,omitempty"`
	// Disabled makes Rollouts that use the (step) plugin skip it.
	Disabled bool `json:"disabled,omitempty"`
	// Args are the binary's command-line arguments.
	Args []string `json:"args,omitempty"`
	// HeadersFrom names Secrets, in the controller's namespace, whose keys
	// and values are sent as HTTP headers when downloading the binary.
	HeadersFrom []HeadersFrom `json:"headersFrom,omitempty"`
	// Kind is set from the key the item was listed under.
	Kind Kind `json:"-"`
}

// HeadersFrom points at a Secret of download headers.
type HeadersFrom struct {
	SecretRef SecretRef `json:"secretRef"`
}

// SecretRef names a Secret.
type SecretRef struct {
	Name string `json:"name"`
}

// Config is what the ConfigMap says about plugins.
type Config struct {
	// Plugins are every kind's items, in ConfigMap order within a kind.
	Plugins []Item
	// Unknown are the ConfigMap's keys this package does not read.
	Unknown []string
}

// namePattern is the <namespace>/<name> form plugin names must have; the
// two parts become the binary's directory and file name.
var namePattern = regexp.MustCompile(`^([a-zA-Z0-9-]+)/([a-zA-Z0-9_.-]+)$`)

// SplitName returns the directory and file name of a plugin's binary.
func SplitName(name string) (dir, file string, err error) {
	m := namePattern.FindStringSubmatch(name)
	if m == nil || m[2] == "." || m[2] == ".." {
		return "", "", fmt.Errorf("plugin name %q must be in the form <namespace>/<name>", name)
	}
	return m[1], m[2], nil
}

// Parse reads the ConfigMap's data. A key whose value is not a list of
// plugins is an error naming the key.
func Parse(data map[string]string) (Config, error) {
	var cfg Config
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		kind, ok := Keys[key]
		if !ok {
			cfg.Unknown = append(cfg.Unknown, key)
			continue
		}
		var items []Item
		if err := yaml.Unmarshal([]byte(data[key]), &items); err != nil {
			return Config{}, fmt.Errorf("ConfigMap %s, key %s: %w", ConfigMapName, key, err)
		}
		for i := range items {
			items[i].Kind = kind
		}
		cfg.Plugins = append(cfg.Plugins, items...)
	}
	return cfg, nil
}

// Read reads the ConfigMap from namespace. A missing ConfigMap is an empty
// configuration.
func Read(ctx context.Context, kube kubernetes.Interface, namespace string) (Config, error) {
	cm, err := kube.CoreV1().ConfigMaps(namespace).Get(ctx, ConfigMapName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("reading ConfigMap %s/%s: %w", namespace, ConfigMapName, err)
	}
	cfg, err := Parse(cm.Data)
	if err != nil {
		return Config{}, fmt.Errorf("namespace %s: %w", namespace, err)
	}
	return cfg, nil
}

// Lookup returns the item of the given kind and name.
func (c Config) Lookup(kind Kind, name string) (Item, bool) {
	i := slices.IndexFunc(c.Plugins, func(it Item) bool { return it.Kind == kind && it.Name == name })
	if i < 0 {
		return Item{}, false
	}
	return c.Plugins[i], true
}

// Names returns the names of the plugins of one kind.
func (c Config) Names(kind Kind) []string {
	var names []string
	for _, it := range c.Plugins {
		if it.Kind == kind {
			names = append(names, it.Name)
		}
	}
	return names
}

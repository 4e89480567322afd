package main

import (
	"context"

	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/host"
	"github.com/serin-dev/serin/pkg/plugin/install"
)

// startPlugins reads the plugin configuration of argo-rollouts-config once,
// at start-up as Argo Rollouts does, installs the binaries it names, and
// returns the host that runs them on first use. Nothing in the ConfigMap
// stops the controller: a plugin that cannot be installed fails, with its
// error, every measurement that uses it.
func startPlugins(ctx context.Context, o *options, kube kubernetes.Interface, namespace string) *host.Host {
	logger := klog.FromContext(ctx)
	cfg, err := config.Read(ctx, kube, namespace)
	if err != nil {
		logger.Error(err, "Ignoring the controller ConfigMap; no plugin is available")
	}
	logPluginConfig(logger, cfg)
	installed := install.Install(ctx, install.Options{
		Dir:       o.pluginDir,
		Namespace: namespace,
		Secrets:   liveSecrets{kube: kube},
	}, cfg.Plugins)
	return host.New(host.Options{Plugins: installed, CallTimeout: o.pluginCallTimeout, Logger: logger})
}

// logPluginConfig says once what the configuration holds.
func logPluginConfig(logger klog.Logger, cfg config.Config) {
	if len(cfg.Unknown) > 0 {
		logger.Info("Keys of "+config.ConfigMapName+" that Serin does not read are ignored", "keys", cfg.Unknown)
	}
	for _, kind := range []config.Kind{config.KindMetricProvider, config.KindTrafficRouter, config.KindStep} {
		if names := cfg.Names(kind); len(names) > 0 {
			logger.Info("Plugins configured", "kind", kind, "plugins", names)
		}
	}
}

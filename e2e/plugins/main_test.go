// Package plugins holds end-to-end tests of plugins: binaries of the e2e
// module (./cmd/metric-plugin, ./cmd/router-plugin, ./cmd/step-plugin),
// built like any Argo Rollouts plugin, configured in argo-rollouts-config
// and served to the controller over file:// and over http:// with sha256;
// and of Serin's built-in serin.dev/approval step plugin.
package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
)

// The configured plugins: one binary under four names.
const (
	// filePlugin is copied from a file:// location.
	filePlugin = "serin-e2e/file"
	// httpPlugin is downloaded, with a header from a Secret, and its
	// sha256 checked.
	httpPlugin = "serin-e2e/http"
	// wrongSumPlugin is downloaded with a sha256 that does not match.
	wrongSumPlugin = "serin-e2e/wrong-sha256"
	// hangingPlugin never answers a measurement.
	hangingPlugin = "serin-e2e/hanging"
)

// The configured traffic-router and step plugins.
const (
	fileRouter     = "serin-e2e/router"
	httpRouter     = "serin-e2e/router-http"
	wrongSumRouter = "serin-e2e/router-wrong-sha256"
	crashingRouter = "serin-e2e/router-crashing"
	hangingRouter  = "serin-e2e/router-hanging"
	fileStep       = "serin-e2e/step"
	httpStep       = "serin-e2e/step-http"
	disabledStep   = "serin-e2e/step-disabled"
)

// crashMarker is the file whose presence makes crashingRouter exit in the
// middle of its next SetWeight.
var crashMarker string

// downloadToken is the header value the binary's server requires.
const downloadToken = "Bearer e2e-download-token"

func TestMain(m *testing.M) {
	// The server lives as long as the test process: a controller started
	// again during the run downloads from it again.
	framework.MainWith(m, func(env *framework.Env) error {
		bins := map[string]string{}
		served := map[string][]byte{}
		for _, name := range []string{"metric-plugin", "router-plugin", "step-plugin"} {
			bin, err := env.BuildCommand(name)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(bin)
			if err != nil {
				return err
			}
			bins[name], served["/"+name] = bin, data
		}
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != downloadToken {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			data, ok := served[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(data)
		}))
		crashMarker = filepath.Join(env.Cluster.Dir(), "router-crash-marker")
		return configure(env, bins, server.URL, served)
	})
}

// configure writes the plugins' ConfigMap and the Secret of the download
// header.
func configure(env *framework.Env, bins map[string]string, url string, served map[string][]byte) error {
	ctx := context.Background()
	if err := env.CreateControllerSecret(ctx, "plugin-download", map[string]string{"Authorization": downloadToken}); err != nil {
		return err
	}
	sum := func(name string) string {
		s := sha256.Sum256(served["/"+name])
		return hex.EncodeToString(s[:])
	}
	prometheus := env.Cluster.PrometheusURL()
	bin, metricURL := bins["metric-plugin"], url+"/metric-plugin"
	var b strings.Builder
	fmt.Fprintf(&b, "- name: %s\n  location: file://%s\n  args: [--prometheus, %s]\n", filePlugin, bin, prometheus)
	fmt.Fprintf(&b, "- name: %s\n  location: %s\n  sha256: %s\n  args: [--prometheus, %s]\n  headersFrom:\n  - secretRef: {name: plugin-download}\n",
		httpPlugin, metricURL, sum("metric-plugin"), prometheus)
	fmt.Fprintf(&b, "- name: %s\n  location: %s\n  sha256: %s\n  headersFrom:\n  - secretRef: {name: plugin-download}\n",
		wrongSumPlugin, metricURL, strings.Repeat("0", 64))
	fmt.Fprintf(&b, "- name: %s\n  location: file://%s\n  args: [--hang]\n", hangingPlugin, bin)
	return env.WriteControllerConfig(ctx, map[string]string{
		"metricProviderPlugins": b.String(),
		"trafficRouterPlugins":  routerConfig(env, bins["router-plugin"], url+"/router-plugin", sum("router-plugin")),
		"stepPlugins":           stepConfig(bins["step-plugin"], url+"/step-plugin", sum("step-plugin")),
	})
}

// routerConfig lists the router plugin under its names.
func routerConfig(env *framework.Env, bin, url, sum string) string {
	kubeconfig := env.Cluster.Kubeconfig()
	var b strings.Builder
	fmt.Fprintf(&b, "- name: %s\n  location: file://%s\n  args: [--kubeconfig, %s]\n", fileRouter, bin, kubeconfig)
	fmt.Fprintf(&b, "- name: %s\n  location: %s\n  sha256: %s\n  args: [--kubeconfig, %s]\n  headersFrom:\n  - secretRef: {name: plugin-download}\n",
		httpRouter, url, sum, kubeconfig)
	fmt.Fprintf(&b, "- name: %s\n  location: %s\n  sha256: %s\n  args: [--kubeconfig, %s]\n  headersFrom:\n  - secretRef: {name: plugin-download}\n",
		wrongSumRouter, url, strings.Repeat("1", 64), kubeconfig)
	fmt.Fprintf(&b, "- name: %s\n  location: file://%s\n  args: [--kubeconfig, %s, --crash-marker, %s]\n", crashingRouter, bin, kubeconfig, crashMarker)
	fmt.Fprintf(&b, "- name: %s\n  location: file://%s\n  args: [--kubeconfig, %s, --hang]\n", hangingRouter, bin, kubeconfig)
	return b.String()
}

// stepConfig lists the step plugin under its names.
func stepConfig(bin, url, sum string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- name: %s\n  location: file://%s\n", fileStep, bin)
	fmt.Fprintf(&b, "- name: %s\n  location: %s\n  sha256: %s\n  headersFrom:\n  - secretRef: {name: plugin-download}\n", httpStep, url, sum)
	fmt.Fprintf(&b, "- name: %s\n  location: file://%s\n  disabled: true\n", disabledStep, bin)
	return b.String()
}

// Package plugins holds end-to-end tests of metric-provider plugins: a
// plugin binary of the e2e module (./cmd/metric-plugin), built like any
// Argo Rollouts plugin, configured in argo-rollouts-config and served to
// the controller over file:// and over http:// with sha256.
package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
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

// downloadToken is the header value the binary's server requires.
const downloadToken = "Bearer e2e-download-token"

func TestMain(m *testing.M) {
	// The server lives as long as the test process: a controller started
	// again during the run downloads from it again.
	framework.MainWith(m, func(env *framework.Env) error {
		bin, err := env.BuildCommand("metric-plugin")
		if err != nil {
			return err
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != downloadToken {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			_, _ = w.Write(data)
		}))
		return configure(env, bin, server.URL+"/metric-plugin", data)
	})
}

// configure writes the plugins' ConfigMap and the Secret of the download
// header.
func configure(env *framework.Env, bin, url string, data []byte) error {
	ctx := context.Background()
	if err := env.CreateControllerSecret(ctx, "plugin-download", map[string]string{"Authorization": downloadToken}); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	prometheus := env.Cluster.PrometheusURL()
	var b strings.Builder
	fmt.Fprintf(&b, "- name: %s\n  location: file://%s\n  args: [--prometheus, %s]\n", filePlugin, bin, prometheus)
	fmt.Fprintf(&b, "- name: %s\n  location: %s\n  sha256: %s\n  args: [--prometheus, %s]\n  headersFrom:\n  - secretRef: {name: plugin-download}\n",
		httpPlugin, url, hex.EncodeToString(sum[:]), prometheus)
	fmt.Fprintf(&b, "- name: %s\n  location: %s\n  sha256: %s\n  headersFrom:\n  - secretRef: {name: plugin-download}\n",
		wrongSumPlugin, url, strings.Repeat("0", 64))
	fmt.Fprintf(&b, "- name: %s\n  location: file://%s\n  args: [--hang]\n", hangingPlugin, bin)
	return env.WriteControllerConfig(ctx, map[string]string{"metricProviderPlugins": b.String()})
}

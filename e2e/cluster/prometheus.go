package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"time"

	"sigs.k8s.io/yaml"
)

// PrometheusBinary is Debian's Prometheus (package "prometheus").
const PrometheusBinary = "/usr/bin/prometheus"

// EnsurePrometheus installs Debian's prometheus package when PrometheusBinary
// is missing. The package's service is never started; the cluster runs the
// binary itself.
func EnsurePrometheus(ctx context.Context, out io.Writer) error {
	if _, err := os.Stat(PrometheusBinary); err == nil {
		return nil
	}
	fmt.Fprintln(out, "prometheus is missing: running apt-get update && apt-get install -y --no-install-recommends prometheus")
	for _, args := range [][]string{
		{"update"},
		{"install", "-y", "--no-install-recommends", "prometheus"},
	} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %v: %w", args, err)
		}
	}
	if _, err := os.Stat(PrometheusBinary); err != nil {
		return fmt.Errorf("prometheus package installed but %s is missing", PrometheusBinary)
	}
	return nil
}

// prometheusConfigYAML scrapes the given targets every second and evaluates
// every second, so a value set by a test is queryable within ~2 s.
func prometheusConfigYAML(targets []string) ([]byte, error) {
	cfg := map[string]any{
		"global": map[string]any{
			"scrape_interval":     "1s",
			"scrape_timeout":      "1s",
			"evaluation_interval": "1s",
		},
		"scrape_configs": []any{map[string]any{
			"job_name":       "serin-e2e",
			"honor_labels":   true,
			"static_configs": []any{map[string]any{"targets": targets}},
		}},
	}
	return yaml.Marshal(cfg)
}

func prometheusArgs(configPath, dataDir string, port int) []string {
	return []string{
		"--config.file=" + configPath,
		"--storage.tsdb.path=" + dataDir,
		"--storage.tsdb.retention.time=1d",
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
		"--web.enable-lifecycle",
		"--log.level=warn",
	}
}

// QueryPrometheus runs an instant PromQL query against the Prometheus at
// baseURL and returns the single sample of its result (a vector of exactly
// one element, or a scalar).
func QueryPrometheus(ctx context.Context, baseURL, query string) (float64, error) {
	u := baseURL + "/api/v1/query?" + url.Values{"query": {query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("prometheus query %q: %s: %w", query, resp.Status, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("prometheus query %q: %s", query, body.Error)
	}
	var sample []any
	switch body.Data.ResultType {
	case "vector":
		var vec []struct {
			Value []any `json:"value"`
		}
		if err := json.Unmarshal(body.Data.Result, &vec); err != nil {
			return 0, err
		}
		if len(vec) != 1 {
			return 0, fmt.Errorf("prometheus query %q: %d series, want 1", query, len(vec))
		}
		sample = vec[0].Value
	case "scalar":
		if err := json.Unmarshal(body.Data.Result, &sample); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("prometheus query %q: result type %s", query, body.Data.ResultType)
	}
	if len(sample) != 2 {
		return 0, fmt.Errorf("prometheus query %q: malformed sample %v", query, sample)
	}
	s, _ := sample[1].(string)
	return strconv.ParseFloat(s, 64)
}

// WaitForPrometheusValue polls the query until its value is want (within
// 1e-9), returning the last value or error seen when ctx ends.
func WaitForPrometheusValue(ctx context.Context, baseURL, query string, want float64) error {
	var last string
	for {
		v, err := QueryPrometheus(ctx, baseURL, query)
		if err == nil && math.Abs(v-want) < 1e-9 {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = strconv.FormatFloat(v, 'g', -1, 64)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("prometheus query %q: want %v, last got %s: %w", query, want, last, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

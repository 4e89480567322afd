package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/controllermetrics"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestServers(t *testing.T) {
	o := parse(t, "--healthzPort", "0", "--metricsPort", "0", "--enable-pprof-address", "127.0.0.1:0")
	servers, err := startServers(context.Background(), o, controllermetrics.New("v1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 3 {
		t.Fatalf("%d servers, want healthz, metrics and pprof", len(servers))
	}
	healthz, metricsSrv, pprof := servers[0], servers[1], servers[2]
	port := func(s *server) string { return s.addr()[strings.LastIndex(s.addr(), ":"):] }

	if code, body := get(t, "http://127.0.0.1"+port(healthz)+"/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz: %d %q, want 200 ok", code, body)
	}
	code, body := get(t, "http://127.0.0.1"+port(metricsSrv)+"/metrics")
	if code != 200 || !strings.Contains(body, `argo_rollouts_controller_info{version="v1.2.3"} 1`) {
		t.Errorf("/metrics: %d, body lacks the controller info:\n%s", code, body)
	}
	if code, _ := get(t, "http://127.0.0.1"+port(metricsSrv)+"/healthz"); code != 404 {
		t.Errorf("/healthz on the metrics port: %d, want 404", code)
	}
	if code, _ := get(t, "http://"+pprof.addr()+"/debug/pprof/"); code != 200 {
		t.Errorf("pprof index: %d", code)
	}

	for _, s := range servers {
		s.shutdown()
	}
	client := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := client.Get("http://127.0.0.1" + port(healthz) + "/healthz"); err == nil {
		t.Error("healthz still serving after shutdown")
	}
}

func TestServerPortInUse(t *testing.T) {
	first, err := listen(context.Background(), "first", "127.0.0.1:0", healthzHandler())
	if err != nil {
		t.Fatal(err)
	}
	defer first.shutdown()
	if s, err := listen(context.Background(), "second", first.addr(), healthzHandler()); err == nil {
		s.shutdown()
		t.Fatal("second listener on a busy port succeeded")
	}
}

func TestServersBindTheAddressesAskedAndNoPprofByDefault(t *testing.T) {
	o := parse(t, "--healthzPort", "0", "--metricsPort", "0", "--metrics-bind-address", "127.0.0.1", "--healthz-bind-address", "127.0.0.1")
	servers, err := startServers(context.Background(), o, controllermetrics.New("v1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, s := range servers {
			s.shutdown()
		}
	}()
	if len(servers) != 2 {
		t.Fatalf("%d servers without --enable-pprof-address, want healthz and metrics only", len(servers))
	}
	for _, s := range servers {
		if !strings.HasPrefix(s.addr(), "127.0.0.1:") {
			t.Errorf("a server listens on %s, want 127.0.0.1 only", s.addr())
		}
	}
	if d := parse(t); d.metricsHost != "" || d.healthzHost != "" || d.pprofAddress != "" {
		t.Errorf("defaults: metrics %q, healthz %q, pprof %q; want every interface and no pprof", d.metricsHost, d.healthzHost, d.pprofAddress)
	}
}

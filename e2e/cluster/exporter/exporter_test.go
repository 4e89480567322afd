package exporter

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, e *Exporter) string {
	t.Helper()
	resp, err := http.Get(e.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func post(t *testing.T, e *Exporter, path, body string) int {
	t.Helper()
	resp, err := http.Post(e.URL()+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestExporter(t *testing.T) {
	e, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	e.Set("success_rate", map[string]string{"service": "demo-canary"}, 0.8)
	e.AddRequests("demo-canary", 200, 80)
	e.AddRequests("demo-canary", 500, 20)
	e.AddRequests("demo-canary", 500, 5)
	if code := post(t, e, "/set", `{"name":"latency_seconds","labels":{"service":"demo"},"value":0.25}`); code != http.StatusNoContent {
		t.Errorf("POST /set: %d", code)
	}
	if code := post(t, e, "/add", `{"name":"errors_total","value":3}`); code != http.StatusNoContent {
		t.Errorf("POST /add: %d", code)
	}
	// A label set that differs from the metric's first use is refused.
	if code := post(t, e, "/set", `{"name":"success_rate","labels":{"other":"x"},"value":1}`); code != http.StatusBadRequest {
		t.Errorf("POST /set with other labels: %d, want 400", code)
	}

	got := scrape(t, e)
	for _, want := range []string{
		`success_rate{service="demo-canary"} 0.8`,
		`http_requests_total{code="200",service="demo-canary"} 80`,
		`http_requests_total{code="500",service="demo-canary"} 25`,
		`latency_seconds{service="demo"} 0.25`,
		`errors_total 3`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %q:\n%s", want, got)
		}
	}

	e.Delete("success_rate", map[string]string{"service": "demo-canary"})
	if strings.Contains(scrape(t, e), `success_rate{`) {
		t.Error("success_rate still exported after Delete")
	}
}

func TestTraffic(t *testing.T) {
	e, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	stop := e.Traffic("demo", 100, 0.75)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(scrape(t, e), `http_requests_total{code="500",service="demo"}`) {
		if time.Now().After(deadline) {
			t.Fatal("no traffic counted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	stop() // idempotent
	body := scrape(t, e)
	ok := sample(t, body, `http_requests_total{code="200",service="demo"}`)
	bad := sample(t, body, `http_requests_total{code="500",service="demo"}`)
	if r := ok / (ok + bad); r < 0.7499 || r > 0.7501 {
		t.Errorf("success share %v, want 0.75", r)
	}
}

// sample returns the value of the series in a text exposition.
func sample(t *testing.T, body, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no series %s in:\n%s", series, body)
	return 0
}

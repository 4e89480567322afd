// Package exporter serves metrics that a test controls, for Prometheus to
// scrape. Pods on the kwok fake node run no process, so the traffic a
// progressive delivery would measure is modelled here instead:
//
//	exp.Set("success_rate", map[string]string{"service": "demo-canary"}, 0.8)
//	exp.AddRequests("demo-canary", 200, 80)
//	exp.AddRequests("demo-canary", 500, 20)
//
// Gauges and counters are created on first use; as with client_golang's
// vectors, every use of one metric name must give the same label names.
//
// A process that does not own the exporter can set values over HTTP:
//
//	POST /set {"name":"success_rate","labels":{"service":"demo-canary"},"value":0.8}
//	POST /add {"name":"http_requests_total","labels":{"service":"demo","code":"200"},"value":10}
package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// RequestsMetric is the counter AddRequests increments, labelled service and code.
const RequestsMetric = "http_requests_total"

// Exporter is an HTTP server on 127.0.0.1 exposing test-controlled metrics.
type Exporter struct {
	reg      *prometheus.Registry
	srv      *http.Server
	addr     string
	mu       sync.Mutex
	gauges   map[string]*prometheus.GaugeVec
	counters map[string]*prometheus.CounterVec
}

// Start serves /metrics on 127.0.0.1 at a free port.
func Start() (*Exporter, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &Exporter{
		reg:      prometheus.NewRegistry(),
		addr:     l.Addr().String(),
		gauges:   map[string]*prometheus.GaugeVec{},
		counters: map[string]*prometheus.CounterVec{},
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /set", e.handle(e.Set))
	mux.HandleFunc("POST /add", e.handle(e.Add))
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = e.srv.Serve(l) }()
	return e, nil
}

// Addr is host:port, the Prometheus scrape target.
func (e *Exporter) Addr() string { return e.addr }

// URL is the base URL of the exporter.
func (e *Exporter) URL() string { return "http://" + e.addr }

// Close stops the server.
func (e *Exporter) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return e.srv.Shutdown(ctx)
}

// Set sets the gauge name{labels} to v.
func (e *Exporter) Set(name string, labels map[string]string, v float64) {
	e.gauge(name, labels).With(labels).Set(v)
}

// Add adds v (>= 0) to the counter name{labels}.
func (e *Exporter) Add(name string, labels map[string]string, v float64) {
	e.counter(name, labels).With(labels).Add(v)
}

// AddRequests counts n requests to service answered with the HTTP status code,
// as http_requests_total{service, code}.
func (e *Exporter) AddRequests(service string, code, n int) {
	e.Add(RequestsMetric, map[string]string{"service": service, "code": strconv.Itoa(code)}, float64(n))
}

// Delete removes the series name{labels} of a gauge or counter.
func (e *Exporter) Delete(name string, labels map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if g := e.gauges[name]; g != nil {
		g.Delete(labels)
	}
	if c := e.counters[name]; c != nil {
		c.Delete(labels)
	}
}

// Traffic counts rps requests a second to service, a successRate share of
// them answered 200 and the rest 500, until the returned stop is called. A
// rate() over http_requests_total then sees that success rate.
func (e *Exporter) Traffic(service string, rps, successRate float64) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		const tick = 100 * time.Millisecond
		t := time.NewTicker(tick)
		defer t.Stop()
		perTick := rps * tick.Seconds()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ok := map[string]string{"service": service, "code": "200"}
				bad := map[string]string{"service": service, "code": "500"}
				e.Add(RequestsMetric, ok, perTick*successRate)
				e.Add(RequestsMetric, bad, perTick*(1-successRate))
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

func labelNames(labels map[string]string) []string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (e *Exporter) gauge(name string, labels map[string]string) *prometheus.GaugeVec {
	e.mu.Lock()
	defer e.mu.Unlock()
	if g := e.gauges[name]; g != nil {
		return g
	}
	if e.counters[name] != nil {
		panic(fmt.Sprintf("exporter: %s is a counter, not a gauge", name))
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "Set by the serin e2e test."}, labelNames(labels))
	e.reg.MustRegister(g)
	e.gauges[name] = g
	return g
}

func (e *Exporter) counter(name string, labels map[string]string) *prometheus.CounterVec {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.counters[name]; c != nil {
		return c
	}
	if e.gauges[name] != nil {
		panic(fmt.Sprintf("exporter: %s is a gauge, not a counter", name))
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "Counted by the serin e2e test."}, labelNames(labels))
	e.reg.MustRegister(c)
	e.counters[name] = c
	return c
}

// handle serves POST /set and /add, turning a panic (label mismatch) into 400.
func (e *Exporter) handle(apply func(string, map[string]string, float64)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
			Value  float64           `json:"value"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Name == "" {
			http.Error(w, "want JSON {name, labels, value}", http.StatusBadRequest)
			return
		}
		defer func() {
			if p := recover(); p != nil {
				http.Error(w, fmt.Sprint(p), http.StatusBadRequest)
			}
		}()
		apply(body.Name, body.Labels, body.Value)
		w.WriteHeader(http.StatusNoContent)
	}
}

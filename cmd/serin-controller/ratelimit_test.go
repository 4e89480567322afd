package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestClientLimitFollowsTheFlagsAndPriorityAndFairness(t *testing.T) {
	apfOn := func() (bool, error) { return true, nil }
	apfOff := func() (bool, error) { return false, nil }
	unknown := func() (bool, error) { return false, errors.New("connection refused") }
	noProbe := func() (bool, error) { t.Error("the API server was asked although --qps was given"); return true, nil }
	cases := []struct {
		name     string
		args     []string
		apf      func() (bool, error)
		qps      float32
		burst    int
		inReason string
	}{
		{"defaults with APF", nil, apfOn, -1, 0, "priority and fairness"},
		{"defaults without APF", nil, apfOff, 40, 80, "does not run"},
		{"defaults when the probe fails", nil, unknown, 40, 80, "connection refused"},
		{"--qps given", []string{"--qps", "15"}, noProbe, 15, 80, "given"},
		{"--burst given", []string{"--burst", "5"}, noProbe, 40, 5, "given"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &options{}
			fs := newFlagSet(o)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			l := decideClientLimit(o, fs.Changed("qps") || fs.Changed("burst"), c.apf)
			if l.qps != c.qps || l.burst != c.burst || !strings.Contains(l.reason, c.inReason) {
				t.Errorf("limit = %+v, want qps %v burst %v, reason with %q", l, c.qps, c.burst, c.inReason)
			}
			cfg := &rest.Config{}
			limitClients(cfg, l)
			if cfg.QPS != c.qps || cfg.Burst != c.burst {
				t.Errorf("config qps %v burst %v, want %v %v", cfg.QPS, cfg.Burst, c.qps, c.burst)
			}
		})
	}
}

func TestPriorityAndFairnessIsReadFromTheResponseHeader(t *testing.T) {
	for _, on := range []bool{true, false} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/livez/ping" {
				http.NotFound(w, r)
				return
			}
			if on {
				w.Header().Set(flowSchemaHeader, "a1b2")
			}
			_, _ = w.Write([]byte("ok"))
		}))
		got, err := priorityAndFairness(context.Background(), &rest.Config{Host: srv.URL})
		srv.Close()
		if err != nil || got != on {
			t.Errorf("header set %v: priorityAndFairness = %v, %v", on, got, err)
		}
	}
}

func TestPriorityAndFairnessReportsAnUnreachableServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	if _, err := priorityAndFairness(context.Background(), &rest.Config{Host: srv.URL}); err == nil {
		t.Fatal("want an error for a server that is gone")
	}
}

func TestBuiltinKindsSpeakProtobufWithoutChangingTheConfig(t *testing.T) {
	cfg := &rest.Config{Host: "https://example", QPS: 5}
	c := builtinKinds(cfg)
	if c.ContentType != "application/vnd.kubernetes.protobuf" || !strings.HasPrefix(c.AcceptContentTypes, "application/vnd.kubernetes.protobuf,") || c.QPS != 5 {
		t.Errorf("builtinKinds = content %q accept %q qps %v", c.ContentType, c.AcceptContentTypes, c.QPS)
	}
	if cfg.ContentType != "" || cfg.AcceptContentTypes != "" {
		t.Error("builtinKinds changed the config it was given")
	}
}

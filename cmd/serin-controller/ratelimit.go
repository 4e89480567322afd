package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
)

// flowSchemaHeader is set on every response of an API server that
// classified the request with API Priority and Fairness (APF).
const flowSchemaHeader = "X-Kubernetes-PF-FlowSchema-UID"

// clientLimit is the client-side rate limit the controller's clients use,
// and why.
type clientLimit struct {
	qps    float32 // negative: no client-side limit
	burst  int
	reason string
}

// unlimited reports whether the clients send without a client-side limit.
func (l clientLimit) unlimited() bool { return l.qps < 0 }

// decideClientLimit applies the rule of --qps and --burst: values given on
// the command line are always used, as Argo Rollouts does. Without them
// Serin leaves pacing to the API server when it runs API Priority and
// Fairness, the advice SIG API Machinery gives controllers (and what
// controller-runtime, Flux and cert-manager do), and uses Argo Rollouts'
// defaults (40 QPS, burst 80) when it does not or cannot tell.
func decideClientLimit(o *options, explicit bool, apf func() (bool, error)) clientLimit {
	if explicit {
		return clientLimit{qps: o.qps, burst: o.burst, reason: "--qps or --burst given"}
	}
	on, err := apf()
	switch {
	case err != nil:
		return clientLimit{qps: o.qps, burst: o.burst, reason: fmt.Sprintf("could not tell whether the API server runs priority and fairness: %v", err)}
	case !on:
		return clientLimit{qps: o.qps, burst: o.burst, reason: "the API server does not run priority and fairness"}
	}
	return clientLimit{qps: -1, burst: 0, reason: "the API server runs priority and fairness, which paces requests; --qps sets a client-side limit"}
}

// priorityAndFairness asks the API server (GET /livez/ping, which any
// authenticated client may read) whether it classifies requests with API
// Priority and Fairness.
func priorityAndFairness(ctx context.Context, cfg *rest.Config) (bool, error) {
	probe := rest.CopyConfig(cfg)
	probe.Timeout = 10 * time.Second
	rt, err := rest.TransportFor(probe)
	if err != nil {
		return false, err
	}
	base, _, err := rest.DefaultServerUrlFor(probe)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.JoinPath("livez", "ping").String(), nil)
	if err != nil {
		return false, err
	}
	resp, err := (&http.Client{Transport: rt, Timeout: probe.Timeout}).Do(req)
	if err != nil {
		return false, err
	}
	_ = resp.Body.Close()
	return resp.Header.Get(flowSchemaHeader) != "", nil
}

// builtinKinds is cfg for the clients of Kubernetes' own kinds
// (ReplicaSets, pods, Services, Events...): they speak protobuf, which the
// API server serves for those kinds and which costs a fraction of JSON to
// decode, as kube-controller-manager does. Custom resources (Rollouts,
// routers' objects) have only JSON and keep cfg.
func builtinKinds(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.ContentType = runtime.ContentTypeProtobuf
	c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	return c
}

// limitClients sets the client-side rate limit on cfg.
func limitClients(cfg *rest.Config, l clientLimit) {
	cfg.QPS, cfg.Burst = l.qps, l.burst
}

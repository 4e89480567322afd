package framework

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// WriteKind sorts a controller's mutating requests.
type WriteKind string

const (
	// WriteObject is a write to anything but a Lease or an Event: the writes
	// that move a rollout.
	WriteObject WriteKind = "object"
	// WriteLease is a write to a coordination.k8s.io Lease (leader election).
	WriteLease WriteKind = "lease"
	// WriteEvent is a write to an Event.
	WriteEvent WriteKind = "event"
)

// Write is one mutating request a controller sent, as its proxy saw it.
type Write struct {
	Kind WriteKind
	// Namespace is the written object's namespace ("" for cluster objects).
	Namespace string
	// Resource is the API resource written ("replicasets", "rollouts", ...).
	Resource     string
	Method, Path string
	// Body is the start of the request body (a patch, say), for messages.
	Body   string
	Status int
	// Sent is when the request reached the proxy; Answered when the
	// response had been passed back to the controller.
	Sent, Answered time.Time
}

// String names the write shortly: method, path below the namespace, status.
func (w Write) String() string {
	path := w.Path
	if _, rest, ok := strings.Cut(path, "/namespaces/"); ok {
		if _, below, ok := strings.Cut(rest, "/"); ok {
			path = below
		}
	}
	return fmt.Sprintf("%s %s %d", w.Method, path, w.Status)
}

// APIProxy sits between one controller process and kube-apiserver: it
// forwards every request as it is, over the cluster's own TLS connection,
// and logs the mutating ones. Armed with a limit, it trips once that many
// object writes have been answered; from then on it holds every further
// mutating request unanswered, so that nothing reaches the API server
// between the trip and the kill the trip triggers. Only the writes to one
// namespace count toward the limit: a test's own.
type APIProxy struct {
	server     *http.Server
	forward    *httputil.ReverseProxy
	kubeconfig string

	mu        sync.Mutex
	limit     int // object writes to namespace before the trip; 0: never
	namespace string
	objects   int
	writes    []Write
	tripped   chan struct{}
}

// NewAPIProxy starts a proxy to the cluster's API server and writes a
// kubeconfig for it into dir. limit > 0 arms it for object writes to a
// namespace (see APIProxy).
func (e *Env) NewAPIProxy(dir string, limit int, namespace string) (*APIProxy, error) {
	cfg := e.Cluster.RESTConfig()
	target, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, err
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &APIProxy{limit: limit, namespace: namespace, tripped: make(chan struct{})}
	p.forward = &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     transport,
		FlushInterval: -1, // watches stream
		// Requests of a killed controller end in "context canceled".
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.kubeconfig = filepath.Join(dir, fmt.Sprintf("kubeconfig-proxy-%d", l.Addr().(*net.TCPAddr).Port))
	if err := writeKubeconfig(p.kubeconfig, "http://"+l.Addr().String(), cfg.BearerToken); err != nil {
		l.Close()
		return nil, err
	}
	p.server = &http.Server{Handler: p}
	go p.server.Serve(l)
	return p, nil
}

// writeKubeconfig writes a kubeconfig for a plain-HTTP server and a token.
func writeKubeconfig(path, server, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: server}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "admin"}
	cfg.CurrentContext = "proxy"
	return clientcmd.WriteToFile(*cfg, path)
}

// Close stops the proxy and drops its connections.
func (p *APIProxy) Close() { p.server.Close() }

// Tripped is closed once the armed limit is reached.
func (p *APIProxy) Tripped() <-chan struct{} { return p.tripped }

// Writes is every mutating request answered so far, in the order answered.
func (p *APIProxy) Writes() []Write {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Write(nil), p.writes...)
}

// ObjectWrites is Writes to a namespace's objects, without the Lease and
// Event writes.
func (p *APIProxy) ObjectWrites(namespace string) []Write {
	var out []Write
	for _, w := range p.Writes() {
		if w.Kind == WriteObject && w.Namespace == namespace {
			out = append(out, w)
		}
	}
	return out
}

// Leading tells whether the controller behind the proxy has written the
// leader-election Lease successfully: only the holder writes it.
func (p *APIProxy) Leading() bool {
	for _, w := range p.Writes() {
		if w.Kind == WriteLease && w.Status < 300 {
			return true
		}
	}
	return false
}

func (p *APIProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := classify(r)
	if kind == "" {
		p.forward.ServeHTTP(w, r)
		return
	}
	select {
	case <-p.tripped:
		<-r.Context().Done() // held until the killed process drops the connection
		return
	default:
	}
	body, err := readBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	sent := time.Now()
	p.forward.ServeHTTP(rec, r)
	http.NewResponseController(w).Flush()
	_, namespace, resource := resourceOf(r.URL.Path)
	p.record(Write{Kind: kind, Namespace: namespace, Resource: resource, Method: r.Method, Body: body, Path: r.URL.Path, Status: rec.status, Sent: sent, Answered: time.Now()})
}

// maxBody bounds the part of a request body a Write keeps.
const maxBody = 2048

// readBody reads a request's body and puts it back for forwarding,
// returning its start.
func readBody(r *http.Request) (string, error) {
	if r.Body == nil {
		return "", nil
	}
	data, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return "", err
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	return string(data[:min(len(data), maxBody)]), nil
}

// record logs an answered write and trips the proxy at its limit.
func (p *APIProxy) record(w Write) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes = append(p.writes, w)
	if w.Kind != WriteObject || w.Namespace != p.namespace {
		return
	}
	p.objects++
	if p.limit > 0 && p.objects == p.limit {
		close(p.tripped)
	}
}

// classify tells a mutating request's kind, or "" for a read.
func classify(r *http.Request) WriteKind {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return ""
	}
	switch group, _, resource := resourceOf(r.URL.Path); {
	case group == "coordination.k8s.io" && resource == "leases":
		return WriteLease
	case (group == "" || group == "events.k8s.io") && resource == "events":
		return WriteEvent
	}
	return WriteObject
}

// resourceOf reads the API group, namespace and resource from a request path:
// /api/v1/[namespaces/NS/]RESOURCE/... or /apis/GROUP/VERSION/[namespaces/NS/]RESOURCE/...
func resourceOf(path string) (group, namespace, resource string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var rest []string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, rest = parts[1], parts[3:]
	default:
		return "", "", ""
	}
	if len(rest) >= 3 && rest[0] == "namespaces" {
		namespace, rest = rest[1], rest[2:]
	}
	return group, namespace, rest[0]
}

// statusRecorder remembers the status code a handler sent.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's Flush.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

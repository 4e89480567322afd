package controllermetrics

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	kubescheme "k8s.io/client-go/kubernetes/scheme"
)

// k8sRequests counts every request the controller's Kubernetes clients send,
// as Argo Rollouts' controller_clientset_k8s_request_total does, so that
// dashboards and alerts on the controller's API traffic keep working.
func newK8sRequests() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "controller_clientset_k8s_request_total",
		Help: "Number of requests to the Kubernetes API server, by resource kind, namespace, name, verb and response code.",
	}, []string{"kind", "namespace", "name", "verb", "status_code"})
}

// WrapTransport counts the requests sent through rt; give it to
// rest.Config.Wrap before the clients are made.
func (m *Metrics) WrapTransport(rt http.RoundTripper) http.RoundTripper {
	return countingTransport{next: rt, counter: m.k8sRequests}
}

type countingTransport struct {
	next    http.RoundTripper
	counter *prometheus.CounterVec
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = rereadable(r)
	resp, err := t.next.RoundTrip(r)
	req := describeRequest(r)
	code := "0" // no response: the request failed before one came
	if resp != nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.counter.WithLabelValues(req.kind, req.namespace, req.name, req.verb, code).Inc()
	return resp, err
}

// rereadable returns a create request whose body can be read again (to name
// the object it creates), copying the request rather than changing it.
func rereadable(r *http.Request) *http.Request {
	if r.Method != http.MethodPost || r.Body == nil || r.GetBody != nil {
		return r
	}
	data, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(data))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	if err != nil {
		c.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data), errReader{err}))
	}
	return c
}

// errReader hands a body's read error on to whoever sends it.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// k8sRequest is what a request to the API server is about.
type k8sRequest struct {
	kind, namespace, name, verb string
}

// describeRequest reads the resource, namespace and name from a request's
// path (/api/v1/... or /apis/<group>/<version>/...), and the verb from its
// method: List and Watch for collections, Get for one object. A create
// names its object in the body.
func describeRequest(r *http.Request) k8sRequest {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		// Not a resource (/version, /livez...): counted as Argo Rollouts
		// counts what it cannot read.
		return k8sRequest{kind: "Unknown", namespace: "Unknown", name: "Unknown", verb: "Unknown"}
	}
	var out k8sRequest
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) != 2 {
		out.namespace, parts = parts[1], parts[2:]
	}
	if len(parts) >= 1 {
		out.kind = parts[0]
	}
	if len(parts) >= 2 {
		out.name = parts[1]
	}
	out.verb = verbOf(r, out.name != "")
	switch {
	case unnamed(out):
		// As Argo Rollouts: one series for every list, and for all of a
		// kind whose objects come and go by the thousand (each Event has a
		// name of its own), so that the counter does not grow without end.
		out.name = notApplicable
	case out.verb == "Create":
		out.name = createdName(r)
	case out.verb == "Watch":
		if v := r.URL.Query().Get("fieldSelector"); strings.HasPrefix(v, "metadata.name=") {
			out.name = strings.TrimPrefix(v, "metadata.name=")
		}
	}
	return out
}

// notApplicable is the name label of requests counted without one.
const notApplicable = "N/A"

// unnamed tells whether a request is counted without its object's name.
func unnamed(req k8sRequest) bool {
	return req.verb == "List" || req.kind == "events" || req.kind == "replicasets"
}

func verbOf(r *http.Request, named bool) string {
	switch r.Method {
	case http.MethodPost:
		return "Create"
	case http.MethodPut:
		return "Update"
	case http.MethodPatch:
		return "Patch"
	case http.MethodDelete:
		return "Delete"
	case http.MethodGet:
		switch {
		case r.URL.Query().Get("watch") == "true":
			return "Watch"
		case named:
			return "Get"
		}
		return "List"
	}
	return "Unknown"
}

// createdName is the name of the object a create sends, in JSON or in the
// protobuf the Kubernetes clients use for built-in kinds ("" when it cannot
// be told).
func createdName(r *http.Request) string {
	if r.GetBody == nil {
		return ""
	}
	body, err := r.GetBody()
	if err != nil {
		return ""
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		return ""
	}
	if obj, _, err := kubescheme.Codecs.UniversalDeserializer().Decode(data, nil, nil); err == nil {
		if m, err := meta.Accessor(obj); err == nil {
			return m.GetName()
		}
	}
	var generic struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) || json.Unmarshal(data, &generic) != nil {
		return ""
	}
	return generic.Metadata.Name
}

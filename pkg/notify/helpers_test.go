package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const (
	controllerNS = "argo-rollouts"
	secretToken  = "tok-9f8e7d6c5b4a"
)

var fixedNow = time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)

// metricCall is one call to the Metrics interface.
type metricCall struct {
	kind, namespace, name, eventType, reason string
}

// fakeMetrics records calls and signals each sent or failed notification.
type fakeMetrics struct {
	mu       sync.Mutex
	calls    []metricCall
	observed int
	outcome  chan metricCall
}

func newFakeMetrics() *fakeMetrics { return &fakeMetrics{outcome: make(chan metricCall, 100)} }

func (f *fakeMetrics) record(c metricCall) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	f.outcome <- c
}

func (f *fakeMetrics) NotificationSent(ns, name, t, r string) {
	f.record(metricCall{"sent", ns, name, t, r})
}

func (f *fakeMetrics) NotificationFailed(ns, name, t, r string) {
	f.record(metricCall{"failed", ns, name, t, r})
}

func (f *fakeMetrics) ObserveNotificationSend(string, string, time.Duration) {
	f.mu.Lock()
	f.observed++
	f.mu.Unlock()
}

// receiver is a webhook endpoint that records request paths and bodies and
// answers with the status its answer function gives (200 when nil).
type receiver struct {
	srv    *httptest.Server
	bodies chan string
	mu     sync.Mutex
	answer func(n int) int
	n      int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{bodies: make(chan string, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.n++
		status := http.StatusOK
		if r.answer != nil {
			status = r.answer(r.n)
		}
		r.mu.Unlock()
		if status == http.StatusOK {
			r.bodies <- req.URL.Path + " " + string(body)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// config is a notification ConfigMap with a webhook service "hook" on url,
// a 1ms retry wait, plus extra keys.
func config(namespace, url string, extra map[string]string) *corev1.ConfigMap {
	data := map[string]string{
		"service.webhook.hook": "url: " + url + "\nretryWaitMin: 1000000\nretryWaitMax: 2000000\nretryMax: 1\n",
		"template.done": `webhook:
  hook:
    method: POST
    body: '{{.rollout.metadata.name}} {{call .time.Now}}'
`,
	}
	for k, v := range extra {
		data[k] = v
	}
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: namespace}, Data: data}
}

func secret(namespace string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: SecretName, Namespace: namespace},
		Data: map[string][]byte{"token": []byte(secretToken)}}
}

func rollout(namespace, name string, annotations map[string]string) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: annotations}}
}

// start runs a Notifier over objs until the test ends. Its logs, and the
// engine's, go to the buffer start returns.
func start(t *testing.T, m Metrics, tweak func(*Options), objs ...runtime.Object) (*Notifier, *logBuffer) {
	t.Helper()
	o := Options{Kube: fake.NewClientset(objs...), Namespace: controllerNS, Metrics: m, Now: func() time.Time { return fixedNow }}
	if tweak != nil {
		tweak(&o)
	}
	n, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	logger := funcr.New(func(prefix, args string) { logs.add(prefix + " " + args) }, funcr.Options{Verbosity: 4})
	RouteEngineLogs(logger, n.Redactor())
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logger))
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return n, logs
}

func subscribe(trigger, service, recipients string) map[string]string {
	return map[string]string{"notifications.argoproj.io/subscribe." + trigger + "." + service: recipients}
}

// expectBody waits for the receiver's next message; 30s without one fails
// the test instead of hanging it.
func expectBody(t *testing.T, r *receiver, want string) {
	t.Helper()
	var got string
	select {
	case got = <-r.bodies:
	case <-time.After(30 * time.Second):
		t.Fatalf("no message arrived; want one containing %q", want)
	}
	if !strings.Contains(got, want) {
		t.Errorf("receiver got %q, want it to contain %q", got, want)
	}
}

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

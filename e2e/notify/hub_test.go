package notify

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Secret values the ConfigMap's services refer to. The hub checks that
// they arrive; the controller's log must never show them.
const (
	hookToken  = "hook-tok-3e1f9a7c"
	slackToken = "xoxb-slack-tok-58d2b6"
)

// message is one notification the hub received.
type message struct {
	service   string // "hook" or "slack"
	namespace string
	kind      string // the template: step-completed, completed, aborted, image-v2
	text      string
}

// hub is the notification receivers, in the test process: a webhook
// endpoint (/hook) and a Slack-compatible API (/slack/), plus the web metric
// the analysis tests read (/metric).
type hub struct {
	url string

	mu       sync.Mutex
	messages []message
	// failures is how many requests, per namespace, the webhook still
	// answers with 500.
	failures map[string]int
	attempts map[string]int
}

func startHub() (*hub, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hub{url: "http://" + l.Addr().String(), failures: map[string]int{}, attempts: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", h.webhook)
	mux.HandleFunc("/slack/chat.postMessage", h.slack)
	mux.HandleFunc("/metric", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"value": 0}`) })
	go http.Serve(l, mux)
	return h, nil
}

// parse reads "<namespace> <kind> <text...>".
func parse(service, s string) message {
	parts := strings.SplitN(strings.TrimSpace(s), " ", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return message{service: service, namespace: parts[0], kind: parts[1], text: parts[2]}
}

func (h *hub) webhook(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("Authorization") != "Bearer "+hookToken {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	m := parse("hook", string(body))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts[m.namespace]++
	if h.failures[m.namespace] > 0 {
		h.failures[m.namespace]--
		http.Error(w, "receiver down", http.StatusInternalServerError)
		return
	}
	h.messages = append(h.messages, m)
}

func (h *hub) slack(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || (r.PostForm.Get("token") != slackToken && r.Header.Get("Authorization") != "Bearer "+slackToken) {
		fmt.Fprint(w, `{"ok": false, "error": "invalid_auth"}`)
		return
	}
	m := parse("slack", r.PostForm.Get("text"))
	m.text += " channel=" + r.PostForm.Get("channel")
	h.mu.Lock()
	h.messages = append(h.messages, m)
	h.mu.Unlock()
	fmt.Fprint(w, `{"ok": true, "channel": "C1", "ts": "1.2"}`)
}

// failNext makes the webhook answer the next n requests about namespace
// with 500.
func (h *hub) failNext(namespace string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures[namespace] = n
}

// received returns the messages of one service and kind about namespace.
func (h *hub) received(namespace, service, kind string) []message {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []message
	for _, m := range h.messages {
		if m.namespace == namespace && m.service == service && m.kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// waitFor waits until n messages of service and kind about namespace have
// arrived, and fails the test if more did.
func (h *hub) waitFor(t *testing.T, namespace, service, kind string, n int) []message {
	t.Helper()
	var got []message
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		got = h.received(namespace, service, kind)
		return len(got) >= n, nil
	})
	if err != nil || len(got) != n {
		t.Fatalf("%s %s messages: got %d %v, want %d", service, kind, len(got), got, n)
	}
	return got
}

// config is the suite's notification ConfigMap data: a webhook and a Slack
// service on the hub, both authenticated with Secret values, and the
// triggers and templates the tests subscribe to.
func (h *hub) config() map[string]string {
	text := func(kind, extra string) string {
		return "{{.rollout.metadata.namespace}} " + kind + " {{.rollout.metadata.name}}" + extra
	}
	template := func(kind, extra string) string {
		return fmt.Sprintf("message: '%s'\nwebhook:\n  hook:\n    method: POST\n    body: '%s'\n",
			text(kind, extra), text(kind, extra))
	}
	return map[string]string{
		"service.webhook.hook": fmt.Sprintf("url: %s/hook\nheaders:\n- name: Authorization\n  value: Bearer $hook-token\n"+
			"retryMax: 1\nretryWaitMin: 100000000\nretryWaitMax: 200000000\n", h.url),
		"service.slack":                     fmt.Sprintf("token: $slack-token\napiURL: %s/slack/\n", h.url),
		"trigger.on-rollout-step-completed": "- send: [step-completed]\n",
		"trigger.on-rollout-completed":      "- send: [completed]\n",
		"trigger.on-rollout-aborted":        "- send: [aborted]\n",
		"trigger.on-image-v2":               "- when: rollout.spec.template.spec.containers[0].image == 'demo:v2'\n  send: [image-v2]\n",
		"template.step-completed":           template("step-completed", ""),
		"template.completed":                template("completed", ""),
		"template.aborted":                  template("aborted", " {{range .analysisRuns}}{{.status.message}}{{end}}"),
		"template.image-v2":                 template("image-v2", ""),
	}
}

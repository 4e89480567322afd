package notify

import (
	"cmp"
	"fmt"
	"io"
	"log"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/metric"
)

// Redacted is what a secret value is replaced with.
const Redacted = metric.Redacted

// Redactor hides the values of the cached notification Secrets in text
// meant for logs. It reads the cache on every call, so a rotated value is
// hidden as soon as the cache has it.
type Redactor struct {
	secrets cache.Store
}

// NewRedactor hides the values of the Secrets in store.
func NewRedactor(store cache.Store) *Redactor { return &Redactor{secrets: store} }

// Redact returns s with every value of every cached Secret replaced by
// Redacted, longest values first so that a value containing another is
// hidden whole.
func (r *Redactor) Redact(s string) string {
	if r == nil || r.secrets == nil || s == "" {
		return s
	}
	var values []string
	for _, obj := range r.secrets.List() {
		secret, ok := obj.(*corev1.Secret)
		if !ok {
			continue
		}
		for _, v := range secret.Data {
			if len(v) > 0 {
				values = append(values, string(v))
			}
		}
		for _, v := range secret.StringData {
			if v != "" {
				values = append(values, v)
			}
		}
	}
	slices.SortFunc(values, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	// Each value in its quoted, JSON, URL-encoded and base64 forms too, as
	// analysis redaction does.
	return metric.Redact(s, values)
}

// RouteEngineLogs sends what the notifications engine logs (through
// logrus's standard logger) to logger instead of stderr, redacted: errors as
// errors, warnings at level 0, information at level 2 and debugging at
// level 4. The retrying HTTP client the engine's webhook service uses logs
// each request's URL, where a secret may stand, through its own default
// logger: that goes to logger at level 4, redacted, too. It changes both
// libraries' global loggers, so a process calls it once.
func RouteEngineLogs(logger klog.Logger, r *Redactor) {
	logger = logger.WithName("notifications")
	std := logrus.StandardLogger()
	std.SetOutput(io.Discard)
	std.SetLevel(logrus.DebugLevel)
	std.ReplaceHooks(logrus.LevelHooks{})
	std.AddHook(&engineLogHook{logger: logger, redactor: r})
	// Every retryablehttp client starts with the library's one default
	// logger, a *log.Logger writing to stderr.
	if l, ok := retryablehttp.NewClient().Logger.(*log.Logger); ok {
		l.SetFlags(0)
		l.SetOutput(&redactingWriter{logger: logger.V(4), redactor: r})
	}
}

// redactingWriter logs each line written to it, redacted.
type redactingWriter struct {
	logger   klog.Logger
	redactor *Redactor
}

func (w *redactingWriter) Write(p []byte) (int, error) {
	w.logger.Info(w.redactor.Redact(strings.TrimRight(string(p), "\n")))
	return len(p), nil
}

type engineLogHook struct {
	logger   klog.Logger
	redactor *Redactor
}

func (h *engineLogHook) Levels() []logrus.Level { return logrus.AllLevels }

// Fire logs one engine entry, its message and fields redacted.
func (h *engineLogHook) Fire(e *logrus.Entry) error {
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		kv = append(kv, k, h.redactor.Redact(fmt.Sprint(e.Data[k])))
	}
	msg := h.redactor.Redact(e.Message)
	switch {
	case e.Level <= logrus.ErrorLevel:
		h.logger.Error(nil, msg, kv...)
	case e.Level == logrus.WarnLevel:
		h.logger.Info(msg, kv...)
	case e.Level == logrus.InfoLevel:
		h.logger.V(2).Info(msg, kv...)
	default:
		h.logger.V(4).Info(msg, kv...)
	}
	return nil
}

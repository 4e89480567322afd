package notify

import (
	"context"
	"hash/fnv"
	"slices"
	"strings"
	"unicode"

	"github.com/argoproj/notifications-engine/pkg/api"
	"github.com/argoproj/notifications-engine/pkg/subscriptions"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

// job is one recorded event waiting to be notified.
type job struct {
	obj       runtime.Object
	namespace string
	name      string
	eventType string
	reason    string
}

// TriggerName is the trigger an event reason runs: "on-" and the reason in
// kebab case, so RolloutStepCompleted runs on-rollout-step-completed and
// AnalysisRunFailed runs on-analysis-run-failed. A dash goes before an upper
// case letter that follows a lower case letter or a digit, or that starts a
// capitalised word after another letter (ABCd gives ab-cd).
func TriggerName(reason string) string {
	r := []rune(reason)
	var b strings.Builder
	b.WriteString("on-")
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) {
			prev := r[i-1]
			startsWord := i+1 < len(r) && unicode.IsLower(r[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || startsWord {
				b.WriteByte('-')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// Recorder wraps rec: every event is recorded by rec as before and, if it
// has a reason, queued for notification. Queueing never blocks: when the
// object's queue is full the event is dropped, logged and counted in
// notification_send_error.
func (n *Notifier) Recorder(rec record.EventRecorder) record.EventRecorderLogger {
	return &recorder{inner: rec, n: n, logger: klog.Background()}
}

type recorder struct {
	inner  record.EventRecorder
	n      *Notifier
	logger klog.Logger
}

var _ record.EventRecorderLogger = (*recorder)(nil)

func (r *recorder) Event(obj runtime.Object, eventType, reason, message string) {
	r.inner.Event(obj, eventType, reason, message)
	r.n.enqueue(r.logger, obj, eventType, reason)
}

func (r *recorder) Eventf(obj runtime.Object, eventType, reason, messageFmt string, args ...any) {
	r.inner.Eventf(obj, eventType, reason, messageFmt, args...)
	r.n.enqueue(r.logger, obj, eventType, reason)
}

func (r *recorder) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventType, reason, messageFmt string, args ...any) {
	r.inner.AnnotatedEventf(obj, annotations, eventType, reason, messageFmt, args...)
	r.n.enqueue(r.logger, obj, eventType, reason)
}

// WithLogger passes the logger on when the wrapped recorder takes one, and
// logs dropped events with it.
func (r *recorder) WithLogger(logger klog.Logger) record.EventRecorderLogger {
	inner := r.inner
	if withLogger, ok := inner.(record.EventRecorderLogger); ok {
		inner = withLogger.WithLogger(logger)
	}
	return &recorder{inner: inner, n: r.n, logger: logger}
}

// enqueue hands a copy of obj to the worker of its namespace and name.
func (n *Notifier) enqueue(logger klog.Logger, obj runtime.Object, eventType, reason string) {
	if reason == "" || obj == nil {
		return
	}
	if eventType == "" {
		eventType = corev1.EventTypeNormal
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return // an object reference: nothing to subscribe on
	}
	j := job{obj: obj.DeepCopyObject(), namespace: m.GetNamespace(), name: m.GetName(), eventType: eventType, reason: reason}
	h := fnv.New32a()
	_, _ = h.Write([]byte(j.namespace + "/" + j.name))
	select {
	case n.queues[h.Sum32()%uint32(len(n.queues))] <- j:
	default:
		logger.Error(nil, "Notification queue full; event not notified", "object", klog.KRef(j.namespace, j.name), "reason", reason)
		n.opts.Metrics.NotificationFailed(j.namespace, j.name, eventType, reason)
	}
}

// drain runs one worker per queue until ctx is done. It returns at once
// then: a worker still inside a send finishes it on its own, so that a
// receiver that never answers cannot hold up the controller's shutdown.
func (n *Notifier) drain(ctx context.Context) {
	for _, q := range n.queues {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-q:
					n.notify(ctx, j)
				}
			}
		}()
	}
	<-ctx.Done()
}

// notify sends the messages of one event with the configuration of the
// controller's namespace and, with self-service, of the object's.
func (n *Notifier) notify(ctx context.Context, j job) {
	logger := klog.FromContext(ctx).WithValues("object", klog.KRef(j.namespace, j.name), "reason", j.reason)
	apis, err := n.factory.GetAPIsFromNamespace(j.namespace)
	if err != nil {
		logger.Error(nil, "Reading the notification configuration failed", "err", n.redactor.Redact(err.Error()))
		n.opts.Metrics.NotificationFailed(j.namespace, j.name, j.eventType, j.reason)
	}
	namespaces := make([]string, 0, len(apis))
	for ns := range apis {
		namespaces = append(namespaces, ns)
	}
	slices.Sort(namespaces)
	for _, ns := range namespaces {
		if apis[ns] == nil {
			continue
		}
		start := n.opts.Now()
		n.notifyWith(logger.WithValues("configNamespace", ns), apis[ns], j)
		n.opts.Metrics.ObserveNotificationSend(j.namespace, j.name, n.opts.Now().Sub(start))
	}
}

// notifyWith runs the event's trigger with one configuration and sends to
// each destination subscribed to it: a condition without "when" always, one
// with "when" if it holds.
func (n *Notifier) notifyWith(logger klog.Logger, a api.API, j job) {
	cfg := a.GetConfig()
	trigger := TriggerName(j.reason)
	m, err := meta.Accessor(j.obj)
	if err != nil {
		return
	}
	dests := cfg.GetGlobalDestinations(m.GetLabels())
	dests.Merge(subscriptions.NewAnnotations(m.GetAnnotations()).GetDestinations(cfg.DefaultTriggers, cfg.ServiceDefaultTriggers))
	targets := dests.Dedup()[trigger]
	conditions, configured := cfg.Triggers[trigger]
	if len(targets) == 0 || !configured {
		logger.V(4).Info("No notification for this event", "trigger", trigger, "destinations", len(targets), "configured", configured)
		return
	}
	vars, err := objectMap(j.obj)
	if err != nil {
		logger.Error(err, "Could not read the object for its notification")
		n.opts.Metrics.NotificationFailed(j.namespace, j.name, j.eventType, j.reason)
		return
	}
	results, err := a.RunTrigger(trigger, vars)
	if err != nil {
		logger.Error(nil, "Evaluating the trigger failed", "trigger", trigger, "err", n.redactor.Redact(err.Error()))
		return
	}
	for _, dest := range targets {
		for i, res := range results {
			if !res.Triggered && (i >= len(conditions) || conditions[i].When != "") {
				continue
			}
			if err := a.Send(vars, res.Templates, dest); err != nil {
				logger.Error(nil, "Sending a notification failed", "trigger", trigger, "service", dest.Service,
					"recipient", n.redactor.Redact(dest.Recipient), "err", n.redactor.Redact(err.Error()))
				n.opts.Metrics.NotificationFailed(j.namespace, j.name, j.eventType, j.reason)
				continue
			}
			logger.Info("Notification sent", "trigger", trigger, "service", dest.Service, "recipient", n.redactor.Redact(dest.Recipient), "templates", res.Templates)
			n.opts.Metrics.NotificationSent(j.namespace, j.name, j.eventType, j.reason)
		}
	}
}

package controllermetrics

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// EventRecorder wraps rec so that every event emitted on a Rollout also
// counts in rollout_events_total{namespace,name,type,reason}, as Argo
// Rollouts counts them: once per emission, before the broadcaster's
// aggregation and spam filtering. Events on other objects pass through
// uncounted.
func (m *Metrics) EventRecorder(rec record.EventRecorder) record.EventRecorderLogger {
	return &countingRecorder{inner: rec, metrics: m}
}

type countingRecorder struct {
	inner   record.EventRecorder
	metrics *Metrics
}

var _ record.EventRecorderLogger = (*countingRecorder)(nil)

func (r *countingRecorder) Event(obj runtime.Object, eventType, reason, message string) {
	r.count(obj, eventType, reason)
	r.inner.Event(obj, eventType, reason, message)
}

func (r *countingRecorder) Eventf(obj runtime.Object, eventType, reason, messageFmt string, args ...any) {
	r.count(obj, eventType, reason)
	r.inner.Eventf(obj, eventType, reason, messageFmt, args...)
}

func (r *countingRecorder) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventType, reason, messageFmt string, args ...any) {
	r.count(obj, eventType, reason)
	r.inner.AnnotatedEventf(obj, annotations, eventType, reason, messageFmt, args...)
}

// WithLogger passes the logger on when the wrapped recorder takes one.
func (r *countingRecorder) WithLogger(logger klog.Logger) record.EventRecorderLogger {
	if withLogger, ok := r.inner.(record.EventRecorderLogger); ok {
		return &countingRecorder{inner: withLogger.WithLogger(logger), metrics: r.metrics}
	}
	return r
}

func (r *countingRecorder) count(obj runtime.Object, eventType, reason string) {
	if namespace, name, ok := rolloutOf(obj); ok {
		r.metrics.CountRolloutEvent(namespace, name, eventType, reason)
	}
}

var rolloutKind = v1alpha1.SchemeGroupVersion.WithKind("Rollout").GroupKind()

// rolloutOf returns the namespace and name of obj if it is a Rollout: a
// typed Rollout, a reference to one, or any object whose type metadata says
// argoproj.io Rollout.
func rolloutOf(obj runtime.Object) (namespace, name string, ok bool) {
	switch o := obj.(type) {
	case *v1alpha1.Rollout:
		if o == nil {
			return "", "", false
		}
		return o.Namespace, o.Name, true
	case *corev1.ObjectReference:
		if o != nil && schema.FromAPIVersionAndKind(o.APIVersion, o.Kind).GroupKind() == rolloutKind {
			return o.Namespace, o.Name, true
		}
		return "", "", false
	}
	if obj == nil || obj.GetObjectKind().GroupVersionKind().GroupKind() != rolloutKind {
		return "", "", false
	}
	a, err := meta.Accessor(obj)
	if err != nil {
		return "", "", false
	}
	return a.GetNamespace(), a.GetName(), true
}

package tolerant

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// Reporter is told of every object that was decoded with fields left out.
// It is called from the informer's list and watch, so it must not block.
type Reporter func(obj runtime.Object, dropped []Dropped)

// Source is where an informer of one kind lists and watches.
type Source struct {
	Client    dynamic.Interface
	Resource  schema.GroupVersionResource
	Namespace string
	// Tweak adjusts every list and watch (a label selector, say).
	Tweak func(*metav1.ListOptions)
	// Report, if set, hears of malformed objects.
	Report Reporter
}

// NewInformer returns an informer whose cache holds PT objects decoded with
// Convert: an object with malformed fields is cached without them, and no
// other object of the kind is held up by it.
func NewInformer[T any, PT interface {
	*T
	runtime.Object
}](src Source, resync time.Duration, indexers cache.Indexers) cache.SharedIndexInformer {
	client := src.Client.Resource(src.Resource).Namespace(src.Namespace)
	tweak := func(o *metav1.ListOptions) {
		if src.Tweak != nil {
			src.Tweak(o)
		}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			ul, err := client.List(ctx, o)
			if err != nil {
				return nil, err
			}
			return convertList[T, PT](ctx, ul, src.Report), nil
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			tweak(&o)
			w, err := client.Watch(ctx, o)
			if err != nil {
				return nil, err
			}
			return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
				return convertEvent[T, PT](ctx, e, src.Report)
			}), nil
		},
	}
	// The list and watch semantics are the dynamic client's: streaming lists
	// where the API server has them (its bookmarks pass through convertEvent).
	return cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, src.Client), PT(new(T)), cache.SharedIndexInformerOptions{
		ResyncPeriod: resync,
		Indexers:     indexers,
	})
}

// convertList decodes every item of a list; an item that cannot be decoded
// at all is left out (and logged) rather than failing the whole list.
func convertList[T any, PT interface {
	*T
	runtime.Object
}](ctx context.Context, ul *unstructured.UnstructuredList, report Reporter) *List {
	out := &List{Items: make([]runtime.Object, 0, len(ul.Items))}
	out.ResourceVersion = ul.GetResourceVersion()
	out.Continue = ul.GetContinue()
	out.RemainingItemCount = ul.GetRemainingItemCount()
	for i := range ul.Items {
		if obj, ok := convertOne[T, PT](ctx, &ul.Items[i], report); ok {
			out.Items = append(out.Items, obj)
		}
	}
	return out
}

// convertEvent decodes the object of a watch event. Error events (a Status)
// pass as they are, for the reflector to read.
func convertEvent[T any, PT interface {
	*T
	runtime.Object
}](ctx context.Context, e watch.Event, report Reporter) (watch.Event, bool) {
	u, ok := e.Object.(*unstructured.Unstructured)
	if !ok || e.Type == watch.Error {
		return e, true
	}
	obj, ok := convertOne[T, PT](ctx, u, report)
	if !ok {
		return e, false
	}
	e.Object = obj
	return e, true
}

func convertOne[T any, PT interface {
	*T
	runtime.Object
}](ctx context.Context, u *unstructured.Unstructured, report Reporter) (runtime.Object, bool) {
	obj, dropped, err := Convert[T, PT](u.Object)
	if err != nil {
		klog.FromContext(ctx).Error(err, "Cannot decode object; it is ignored", "object", klog.KObj(u), "kind", u.GetKind())
		return nil, false
	}
	if len(dropped) > 0 && report != nil {
		report(obj, dropped)
	}
	return obj, true
}

// List is the list the informer's reflector receives: decoded objects.
type List struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []runtime.Object `json:"items"`
}

// DeepCopyObject implements runtime.Object.
func (l *List) DeepCopyObject() runtime.Object {
	out := &List{TypeMeta: l.TypeMeta}
	l.ListMeta.DeepCopyInto(&out.ListMeta)
	out.Items = make([]runtime.Object, len(l.Items))
	for i, item := range l.Items {
		out.Items[i] = item.DeepCopyObject()
	}
	return out
}

package controller

import (
	"reflect"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// recorder is an Enqueuer that remembers what it was given.
type recorder struct{ keys []cache.ObjectName }

func (r *recorder) EnqueueKey(key cache.ObjectName) { r.keys = append(r.keys, key) }

func (r *recorder) take() []string {
	var out []string
	for _, k := range r.keys {
		out = append(out, k.String())
	}
	r.keys = nil
	return out
}

func rs(ns, name, rv string, owners ...metav1.OwnerReference) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, ResourceVersion: rv, OwnerReferences: owners,
	}}
}

func owner(apiVersion, kind, name string, controller bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("uid-" + name), Controller: &controller}
}

func check(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: enqueued %q, want %q", what, got, want)
	}
}

func TestHandleAll(t *testing.T) {
	q := &recorder{}
	h := HandleAll(q)

	h.OnAdd(rs("ns", "a", "1"), false)
	check(t, "add", q.take(), "ns/a")

	h.OnUpdate(rs("ns", "a", "1"), rs("ns", "a", "1"))
	check(t, "resync (same resourceVersion)", q.take())

	h.OnUpdate(rs("ns", "a", "1"), rs("ns", "a", "2"))
	check(t, "update", q.take(), "ns/a")

	h.OnDelete(rs("ns", "a", "2"))
	check(t, "delete", q.take(), "ns/a")

	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/a", Obj: rs("ns", "a", "2")})
	check(t, "delete seen as tombstone", q.take(), "ns/a")
}

func TestHandleOwner(t *testing.T) {
	q := &recorder{}
	h := HandleOwner(q, "Rollout", "argoproj.io")
	ro1 := owner("argoproj.io/v1alpha1", "Rollout", "ro1", true)
	ro2 := owner("argoproj.io/v1alpha1", "Rollout", "ro2", true)

	h.OnAdd(rs("ns", "a", "1", ro1), false)
	check(t, "owned by a Rollout", q.take(), "ns/ro1")

	h.OnAdd(rs("ns", "b", "1", owner("apps/v1", "Deployment", "d", true)), false)
	check(t, "owned by a Deployment", q.take())

	h.OnAdd(rs("ns", "c", "1", owner("example.com/v1", "Rollout", "x", true)), false)
	check(t, "owned by a Rollout of another group", q.take())

	h.OnAdd(rs("ns", "d", "1", owner("argoproj.io/v1alpha1", "Rollout", "ro1", false)), false)
	check(t, "Rollout is an owner but not the controller", q.take())

	h.OnAdd(rs("ns", "e", "1"), false)
	check(t, "orphan", q.take())

	h.OnUpdate(rs("ns", "a", "1", ro1), rs("ns", "a", "1", ro1))
	check(t, "resync", q.take())

	h.OnUpdate(rs("ns", "a", "1", ro1), rs("ns", "a", "2", ro1))
	check(t, "status change", q.take(), "ns/ro1")

	h.OnUpdate(rs("ns", "a", "2", ro1), rs("ns", "a", "3", ro2))
	check(t, "moved to another Rollout", q.take(), "ns/ro1", "ns/ro2")

	h.OnUpdate(rs("ns", "a", "3", ro2), rs("ns", "a", "4"))
	check(t, "orphaned", q.take(), "ns/ro2")

	h.OnUpdate(rs("ns", "a", "4"), rs("ns", "a", "5", ro1))
	check(t, "adopted", q.take(), "ns/ro1")

	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/a", Obj: rs("ns", "a", "5", ro1)})
	check(t, "deleted (tombstone)", q.take(), "ns/ro1")
}

// servicesIndex mimics the Rollout reconciler's index: a ReplicaSet stands in
// for a Rollout and its annotations name the Services it references.
const servicesIndex = "services"

func servicesOf(obj any) ([]string, error) {
	o := obj.(*appsv1.ReplicaSet)
	var out []string
	for _, svc := range []string{"stable", "canary"} {
		if name := o.Annotations[svc]; name != "" {
			out = append(out, o.Namespace+"/"+name)
		}
	}
	return out, nil
}

func TestHandleMappedByIndex(t *testing.T) {
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{servicesIndex: servicesOf})
	add := func(ns, name, stable, canary string) {
		o := rs(ns, name, "1")
		o.Annotations = map[string]string{"stable": stable, "canary": canary}
		if err := indexer.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	add("ns", "ro1", "web", "web-canary")
	add("ns", "ro2", "web", "")
	add("other", "ro3", "web", "")

	q := &recorder{}
	h := HandleMapped(q, ByIndex(indexer, servicesIndex))
	svc := func(ns, name, rv string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv}}
	}

	h.OnAdd(svc("ns", "web", "1"), false)
	got := q.take()
	slices.Sort(got)
	check(t, "shared stable Service", got, "ns/ro1", "ns/ro2")

	h.OnAdd(svc("ns", "web-canary", "1"), false)
	check(t, "canary Service", q.take(), "ns/ro1")

	h.OnAdd(svc("ns", "unrelated", "1"), false)
	check(t, "unreferenced Service", q.take())

	h.OnUpdate(svc("ns", "web-canary", "1"), svc("ns", "web-canary", "1"))
	check(t, "resync", q.take())

	h.OnUpdate(svc("ns", "web-canary", "1"), svc("ns", "web-canary", "2"))
	check(t, "update (old and new)", q.take(), "ns/ro1", "ns/ro1")

	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "other/web", Obj: svc("other", "web", "1")})
	check(t, "delete (tombstone)", q.take(), "other/ro3")
}

func TestStripManagedFields(t *testing.T) {
	withFields := func() *appsv1.ReplicaSet {
		o := rs("ns", "a", "1")
		o.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
		o.Labels = map[string]string{"keep": "me"}
		return o
	}

	out, err := StripManagedFields(withFields())
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*appsv1.ReplicaSet)
	if got.ManagedFields != nil || got.Labels["keep"] != "me" {
		t.Errorf("got managedFields %v labels %v; want none and labels kept", got.ManagedFields, got.Labels)
	}

	inner := withFields()
	out, err = StripManagedFields(cache.DeletedFinalStateUnknown{Key: "ns/a", Obj: inner})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.(cache.DeletedFinalStateUnknown); !ok || inner.ManagedFields != nil {
		t.Errorf("tombstone: got %T with inner managedFields %v", out, inner.ManagedFields)
	}

	if out, err := StripManagedFields("not an object"); err != nil || out != "not an object" {
		t.Errorf("non-object: got %v, %v; want it back unchanged", out, err)
	}
}

package controller

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/serin-dev/serin/pkg/event"
)

// patchCall is one request a recordingPatcher received.
type patchCall struct {
	namespace, name string
	pt              types.PatchType
	body            map[string]any
	subresources    []string
}

// recordingPatcher answers every patch with a new resourceVersion, or with
// err when set.
type recordingPatcher struct {
	calls []patchCall
	err   error
}

func (p *recordingPatcher) client(namespace string) Patcher[*corev1.Pod] {
	return patchFunc(func(name string, pt types.PatchType, data []byte, subresources []string) (*corev1.Pod, error) {
		var body map[string]any
		if err := json.Unmarshal(data, &body); err != nil {
			return nil, err
		}
		p.calls = append(p.calls, patchCall{namespace, name, pt, body, subresources})
		if p.err != nil {
			return nil, p.err
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, ResourceVersion: "11"}}, nil
	})
}

type patchFunc func(name string, pt types.PatchType, data []byte, subresources []string) (*corev1.Pod, error)

func (f patchFunc) Patch(_ context.Context, name string, pt types.PatchType, data []byte, _ metav1.PatchOptions, subresources ...string) (*corev1.Pod, error) {
	return f(name, pt, data, subresources)
}

var errPodGone = errors.New("the pod no longer exists")

func newStatusPatcher(p *recordingPatcher, subresource string) (*StatusPatcher[*corev1.Pod], *Writes) {
	w := &Writes{}
	return &StatusPatcher[*corev1.Pod]{
		Client:      p.client,
		Subresource: subresource,
		Describe:    func(o metav1.Object) string { return "pod " + o.GetName() },
		Gone:        errPodGone,
		Writes:      w,
	}, w
}

var testPod = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api", ResourceVersion: "10"}}

func TestAnUnchangedStatusIsNotWritten(t *testing.T) {
	p := &recordingPatcher{}
	sp, _ := newStatusPatcher(p, "status")
	status := corev1.PodStatus{Phase: corev1.PodRunning}
	if err := sp.Patch(context.Background(), testPod, "10", status, status); err != nil {
		t.Fatal(err)
	}
	if len(p.calls) != 0 {
		t.Fatalf("an unchanged status sent %d patches", len(p.calls))
	}
}

func TestAStatusPatchCarriesOnlyTheChangedFieldsAndAResourceVersionPrecondition(t *testing.T) {
	p := &recordingPatcher{}
	sp, w := newStatusPatcher(p, "status")
	observed := corev1.PodStatus{Phase: corev1.PodPending, Message: "waiting"}
	desired := corev1.PodStatus{Phase: corev1.PodRunning, Message: "waiting"}
	if err := sp.Patch(context.Background(), testPod, "9", observed, desired); err != nil {
		t.Fatal(err)
	}
	want := []patchCall{{
		namespace: "shop", name: "api", pt: types.MergePatchType,
		body: map[string]any{
			"metadata": map[string]any{"resourceVersion": "9"},
			"status":   map[string]any{"phase": "Running"},
		},
		subresources: []string{"status"},
	}}
	if !reflect.DeepEqual(p.calls, want) {
		t.Fatalf("patches %+v\nwant %+v", p.calls, want)
	}
	key := cache.MetaObjectToName(testPod)
	if behind, _ := w.Behind(key, "9"); !behind {
		t.Error("the write from resourceVersion 9 was not recorded for the write guard")
	}
}

func TestAKindWithoutAStatusSubresourceIsPatchedOnTheObject(t *testing.T) {
	p := &recordingPatcher{}
	sp, _ := newStatusPatcher(p, "")
	if err := sp.Patch(context.Background(), testPod, "10", corev1.PodStatus{}, corev1.PodStatus{Phase: corev1.PodRunning}); err != nil {
		t.Fatal(err)
	}
	if len(p.calls) != 1 || p.calls[0].subresources != nil {
		t.Fatalf("patches %+v, want one on the object itself", p.calls)
	}
}

func TestAStatusPatchThatFindsTheObjectDeletedReportsItGone(t *testing.T) {
	p := &recordingPatcher{err: apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "api")}
	sp, _ := newStatusPatcher(p, "status")
	err := sp.Patch(context.Background(), testPod, "10", corev1.PodStatus{}, corev1.PodStatus{Phase: corev1.PodRunning})
	if !errors.Is(err, errPodGone) || err.Error() != "patching status of pod api: the pod no longer exists" {
		t.Fatalf("err = %v, want the Gone error", err)
	}
}

func TestAStatusPatchConflictStaysAConflict(t *testing.T) {
	p := &recordingPatcher{err: apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "api", errors.New("changed"))}
	sp, w := newStatusPatcher(p, "status")
	err := sp.Patch(context.Background(), testPod, "10", corev1.PodStatus{}, corev1.PodStatus{Phase: corev1.PodRunning})
	if !apierrors.IsConflict(err) {
		t.Fatalf("err = %v, want a Conflict", err)
	}
	if behind, _ := w.Behind(cache.MetaObjectToName(testPod), "10"); behind {
		t.Error("a failed write was recorded for the write guard")
	}
}

func TestRecordEventsRecordsWarningsAndNormalEventsInOrder(t *testing.T) {
	rec := record.NewFakeRecorder(10)
	RecordEvents(rec, testPod, []event.Event{
		{Reason: "Started", Message: "it began"},
		{Warning: true, Reason: "Failed", Message: "it broke"},
	})
	close(rec.Events)
	var got []string
	for e := range rec.Events {
		got = append(got, e)
	}
	want := []string{"Normal Started it began", "Warning Failed it broke"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestChangedFieldsNamesTopLevelKeysOnly(t *testing.T) {
	got := changedFields([]byte(`{"phase":"Paused","canary":{"weights":{"canary":{"weight":5}}},"HPAReplicas":1}`))
	if want := []string{"HPAReplicas", "canary", "phase"}; !slices.Equal(got, want) {
		t.Errorf("changedFields = %v, want %v", got, want)
	}
	if got := changedFields([]byte(`not json`)); got != nil {
		t.Errorf("changedFields(not json) = %v, want nil", got)
	}
}

package rollout

import (
	"context"
	"sort"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

var widgets = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}

// chainRouter names a widget by a label selector and one by name; the named
// one names, in spec.next, a further widget it follows.
type chainRouter struct{}

func (chainRouter) Type() string { return "Chain" }
func (chainRouter) Resources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{widgets}
}
func (chainRouter) References(ro *v1alpha1.Rollout) []trafficrouting.Ref {
	return []trafficrouting.Ref{
		{Resource: widgets, Namespace: ro.Namespace, Selector: "tier=edge"},
		{Resource: widgets, Namespace: ro.Namespace, Name: "head"},
	}
}
func (chainRouter) Follow(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) []trafficrouting.Ref {
	head := observed[trafficrouting.Ref{Resource: widgets, Namespace: ro.Namespace, Name: "head"}]
	if head == nil {
		return nil
	}
	next, _, _ := unstructured.NestedString(head.Object, "spec", "next")
	return []trafficrouting.Ref{{Resource: widgets, Namespace: ro.Namespace, Name: next}}
}
func (chainRouter) Validate(*v1alpha1.Rollout, map[trafficrouting.Ref]*unstructured.Unstructured) error {
	return nil
}
func (chainRouter) Plan(*v1alpha1.Rollout, map[trafficrouting.Ref]*unstructured.Unstructured, trafficrouting.Desired) (trafficrouting.Writes, error) {
	return trafficrouting.Writes{}, nil
}

func widget(name string, labels map[string]any, next string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name, "namespace": "default", "labels": labels},
		"spec":     map[string]any{"next": next},
	}}
}

func TestRouterObjectsBySelectorAndFollowed(t *testing.T) {
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{widgets: "WidgetList"},
		widget("head", nil, "tail"), widget("tail", nil, ""), widget("a", map[string]any{"tier": "edge"}, ""),
		widget("b", map[string]any{"tier": "core"}, ""), widget("unrelated", nil, ""))
	objects := NewObjectCache(dyn, "", 0, nil, t.Context().Done())
	objects.Start(widgets)
	if err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		w, err := objects.Get(widgets, "default", "head")
		return err == nil && w != nil, nil
	}); err != nil {
		t.Fatal("the widgets never reached the cache")
	}
	r := NewReconciler(Options{Objects: objects})
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "default"}}
	st := &plan.State{RouterObjects: map[trafficrouting.Ref]*unstructured.Unstructured{}}
	if err := r.observeRouter(ro, chainRouter{}, st); err != nil {
		t.Fatal(err)
	}
	var names []string
	for ref := range st.RouterObjects {
		if ref.Selector != "" || ref.Name == "" {
			t.Fatalf("stored under %+v", ref)
		}
		names = append(names, ref.Name)
	}
	sort.Strings(names)
	if len(names) != 3 || names[0] != "a" || names[1] != "head" || names[2] != "tail" {
		t.Fatalf("observed %v, want a (selected), head (named), tail (followed)", names)
	}
	if len(st.RouterErrors) != 0 {
		t.Fatalf("errors: %v", st.RouterErrors)
	}
}

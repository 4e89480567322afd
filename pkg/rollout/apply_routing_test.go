package rollout

import (
	"context"
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

var (
	destinationRules = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1beta1", Resource: "destinationrules"}
	virtualServices  = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1beta1", Resource: "virtualservices"}
	ingresses        = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
)

// routingObject is a namespaced traffic-routing object with a spec.marker
// field the tests change to see whether a write reached the API server.
func routingObject(apiVersion, kind, name, marker string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "namespace": "shop"},
		"spec":       map[string]any{"marker": marker},
	}}
}

func routingDynamicClient(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		destinationRules: "DestinationRuleList",
		virtualServices:  "VirtualServiceList",
		ingresses:        "IngressList",
	}, objs...)
}

// markerOf reads spec.marker of the stored object, or "" when it is absent.
func markerOf(t *testing.T, dyn *dynamicfake.FakeDynamicClient, gvr schema.GroupVersionResource, name string) string {
	t.Helper()
	obj, err := dyn.Resource(gvr).Namespace("shop").Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		t.Fatalf("reading %s %s: %v", gvr.Resource, name, err)
	}
	marker, _, _ := unstructured.NestedString(obj.Object, "spec", "marker")
	return marker
}

// actionSummary lists the fake's recorded actions as "verb resource name".
func actionSummary(dyn *dynamicfake.FakeDynamicClient) []string {
	var out []string
	for _, a := range dyn.Actions() {
		name := ""
		// Update and create actions share one interface (they carry an object).
		switch a := a.(type) {
		case k8stesting.CreateAction:
			name = a.GetObject().(*unstructured.Unstructured).GetName()
		case k8stesting.DeleteAction:
			name = a.GetName()
		case k8stesting.PatchAction:
			name = a.GetName()
		}
		out = append(out, a.GetVerb()+" "+a.GetResource().Resource+" "+name)
	}
	return out
}

func TestARouterWriteFailingMidwayStopsTheWritesAfterIt(t *testing.T) {
	dyn := routingDynamicClient(
		routingObject("networking.istio.io/v1beta1", "DestinationRule", "reviews", "old"),
		routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "old"),
	)
	refused := errors.New("admission webhook refused the VirtualService")
	dyn.PrependReactor("patch", "virtualservices", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, refused
	})
	r := NewReconciler(Options{Dynamic: dyn})

	err := r.applyRouterWrites(context.Background(), &v1alpha1.Rollout{}, []trafficrouting.Write{
		{Op: trafficrouting.Update, Ref: trafficrouting.Ref{Resource: destinationRules, Namespace: "shop", Name: "reviews"},
			Object:   routingObject("networking.istio.io/v1beta1", "DestinationRule", "reviews", "new"),
			Observed: routingObject("networking.istio.io/v1beta1", "DestinationRule", "reviews", "old")},
		{Op: trafficrouting.Update, Ref: trafficrouting.Ref{Resource: virtualServices, Namespace: "shop", Name: "reviews"},
			Object:   routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "new"),
			Observed: routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "old")},
		{Op: trafficrouting.Create, Ref: trafficrouting.Ref{Resource: ingresses, Namespace: "shop", Name: "reviews-canary"},
			Object: routingObject("networking.k8s.io/v1", "Ingress", "reviews-canary", "new")},
	})
	sent := strings.Join(actionSummary(dyn), ", ")

	if !errors.Is(err, refused) {
		t.Fatalf("error = %v, want it to wrap the refusal", err)
	}
	if want := "update virtualservices reviews: " + refused.Error(); err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if got := markerOf(t, dyn, destinationRules, "reviews"); got != "new" {
		t.Errorf("the DestinationRule written before the failure has marker %q, want new", got)
	}
	if got := markerOf(t, dyn, virtualServices, "reviews"); got != "old" {
		t.Errorf("the refused VirtualService has marker %q, want old", got)
	}
	if got := markerOf(t, dyn, ingresses, "reviews-canary"); got != "" {
		t.Errorf("the Ingress after the failure was created with marker %q", got)
	}
	// The create of the Ingress was never sent.
	if want := "patch destinationrules reviews, patch virtualservices reviews"; sent != want {
		t.Errorf("sent %s, want %s", sent, want)
	}
}

func TestDeletingARoutingObjectThatIsAlreadyGoneIsNotAnError(t *testing.T) {
	dyn := routingDynamicClient(routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "old"))
	r := NewReconciler(Options{Dynamic: dyn})

	err := r.applyRouterWrites(context.Background(), &v1alpha1.Rollout{}, []trafficrouting.Write{
		{Op: trafficrouting.Delete, Ref: trafficrouting.Ref{Resource: ingresses, Namespace: "shop", Name: "reviews-canary"}},
		{Op: trafficrouting.Update, Ref: trafficrouting.Ref{Resource: virtualServices, Namespace: "shop", Name: "reviews"},
			Object:   routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "new"),
			Observed: routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "old")},
	})
	sent := strings.Join(actionSummary(dyn), ", ")

	if err != nil {
		t.Fatalf("deleting an Ingress that does not exist failed: %v", err)
	}
	if want := "delete ingresses reviews-canary, patch virtualservices reviews"; sent != want {
		t.Errorf("sent %s, want %s", sent, want)
	}
	if got := markerOf(t, dyn, virtualServices, "reviews"); got != "new" {
		t.Errorf("the write after the delete was not applied: VirtualService marker %q, want new", got)
	}
}

func TestADeleteThatFailsForAnotherReasonIsAnError(t *testing.T) {
	dyn := routingDynamicClient()
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, "reviews-canary", errors.New("no RBAC"))
	dyn.PrependReactor("delete", "ingresses", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, forbidden
	})
	r := NewReconciler(Options{Dynamic: dyn})

	err := r.applyRouterWrites(context.Background(), &v1alpha1.Rollout{}, []trafficrouting.Write{
		{Op: trafficrouting.Delete, Ref: trafficrouting.Ref{Resource: ingresses, Namespace: "shop", Name: "reviews-canary"}},
	})

	if !apierrors.IsForbidden(err) || !strings.HasPrefix(err.Error(), "delete ingresses reviews-canary: ") {
		t.Fatalf("error = %v, want the forbidden delete of ingresses reviews-canary", err)
	}
}

// Argo Rollouts' ClusterRole grants update but not patch on some routing
// kinds (TraefikServices, Mappings, ApisixRoutes): a Replace write is a PUT.
func TestAReplaceWriteIsAnUpdate(t *testing.T) {
	dyn := routingDynamicClient(routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "old"))
	r := NewReconciler(Options{Dynamic: dyn})
	err := r.applyRouterWrites(context.Background(), &v1alpha1.Rollout{}, []trafficrouting.Write{
		{Op: trafficrouting.Update, Replace: true, Ref: trafficrouting.Ref{Resource: virtualServices, Namespace: "shop", Name: "reviews"},
			Object:   routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "new"),
			Observed: routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "old")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sent := strings.Join(actionSummary(dyn), ", "); sent != "update virtualservices reviews" {
		t.Fatalf("sent %s, want one update", sent)
	}
	if got := markerOf(t, dyn, virtualServices, "reviews"); got != "new" {
		t.Fatalf("marker %q, want new", got)
	}
}

package rollout

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutfake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

func orderRS(name string, replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID("uid-" + name)},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas}}
}

// Pods are asked for before traffic goes to them, and traffic leaves before
// pods go: grows, then router writes, then the other updates and deletes.
func TestApplyGrowsThenRoutesThenShrinks(t *testing.T) {
	var sent []string
	record := func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetVerb() != "get" && a.GetVerb() != "list" && a.GetVerb() != "watch" {
			name := ""
			switch a := a.(type) {
			case k8stesting.UpdateAction:
				name = a.GetObject().(metav1.Object).GetName()
			case k8stesting.PatchAction:
				name = a.GetName()
			case k8stesting.DeleteAction:
				name = a.GetName()
			}
			sent = append(sent, a.GetVerb()+" "+a.GetResource().Resource+" "+name)
		}
		return false, nil, nil
	}
	kube := kubefake.NewClientset(orderRS("stable", 2), orderRS("canary", 2), orderRS("old", 0))
	kube.PrependReactor("*", "*", record)
	dyn := routingDynamicClient(routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "old"))
	dyn.PrependReactor("*", "*", record)
	ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "reviews", Namespace: "shop"}}
	r := NewReconciler(Options{KubeClient: kube, Dynamic: dyn, RolloutClient: rolloutfake.NewSimpleClientset(ro)})

	canary := orderRS("canary", 2)
	canary.Annotations = map[string]string{v1alpha1.AnnotationScaleDownDeadline: "2026-01-01T00:00:30Z"}
	p := plan.Plan{
		Grows: []*appsv1.ReplicaSet{orderRS("stable", 4)},
		RouterWrites: []trafficrouting.Write{{Op: trafficrouting.Update,
			Ref:      trafficrouting.Ref{Resource: virtualServices, Namespace: "shop", Name: "reviews"},
			Object:   routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "stable"),
			Observed: routingObject("networking.istio.io/v1beta1", "VirtualService", "reviews", "old")}},
		Updates: []*appsv1.ReplicaSet{canary},
		Deletes: []*appsv1.ReplicaSet{orderRS("old", 0)},
		Status:  ro.Status,
	}
	if err := r.apply(context.Background(), ro, p); err != nil {
		t.Fatal(err)
	}
	want := "update replicasets stable, patch virtualservices reviews, update replicasets canary, delete replicasets old"
	if got := strings.Join(sent, ", "); got != want {
		t.Errorf("sent %s\nwant %s", got, want)
	}
}

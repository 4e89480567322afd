package plan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// A Rollout may name a VirtualService in another namespace, as in Argo
// Rollouts, but Serin changes it only when that namespace's owner allowed
// the Rollout's namespace on the object itself.

func gatewaysWorld(t *testing.T, allow string) *world {
	w := istioWorld(t, setWeight(20), pauseFor(""))
	w.ro.Spec.Strategy.Canary.TrafficRouting.Istio.VirtualService.Name = "demo.gateways"
	home := trafficrouting.Ref{Resource: vsResource, Namespace: "default", Name: "demo"}
	vs := w.routerObjects[home]
	delete(w.routerObjects, home)
	vs.SetNamespace("gateways")
	if allow != "" {
		vs.SetAnnotations(map[string]string{trafficrouting.AnnotationAllowRolloutsFrom: allow})
	}
	w.routerObjects[trafficrouting.Ref{Resource: vsResource, Namespace: "gateways", Name: "demo"}] = vs
	return w
}

func TestAVirtualServiceInAnotherNamespaceIsNotChangedWithoutItsConsent(t *testing.T) {
	w := gatewaysWorld(t, "")
	p := Compute(w.state())
	c := condition(p.Status, v1alpha1.InvalidSpec)
	if c == nil || !strings.Contains(c.Message, `"gateways/demo"`) || !strings.Contains(c.Message, trafficrouting.AnnotationAllowRolloutsFrom) {
		t.Fatalf("want InvalidSpec naming the VirtualService and the annotation, got %+v", c)
	}
	if len(p.RouterWrites) > 0 || p.Create != nil {
		t.Fatalf("a refused Rollout wrote: %d router writes", len(p.RouterWrites))
	}
}

func TestAVirtualServiceInAnotherNamespaceThatAllowsTheRolloutsNamespaceIsUsed(t *testing.T) {
	for _, allow := range []string{"default", "shop, default", "*"} {
		w := gatewaysWorld(t, allow)
		w.settle()
		w.setImage("demo:v2")
		w.settle()
		if c := condition(w.ro.Status, v1alpha1.InvalidSpec); c != nil {
			t.Fatalf("allow %q: refused: %s", allow, c.Message)
		}
		vs := w.routerObjects[trafficrouting.Ref{Resource: vsResource, Namespace: "gateways", Name: "demo"}]
		data, _ := json.Marshal(vs.Object)
		if !strings.Contains(string(data), `"weight":20`) {
			t.Fatalf("allow %q: the VirtualService did not get the canary's 20%%", allow)
		}
	}
}

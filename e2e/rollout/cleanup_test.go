package rollout

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var services = schema.GroupVersionResource{Version: "v1", Resource: "services"}

// released tells whether a Service selects the app again: no revision
// pinned, no Rollout named as its manager.
func released(app string) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool {
		sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector")
		_, managed := u.GetAnnotations()[v1alpha1.AnnotationManagedByRollouts]
		return len(sel) == 1 && sel["app"] == app && !managed
	}
}

func TestDeletingARolloutMidCanaryGivesItsServicesBackToTheApp(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("demo-stable", "demo").Service("demo-canary", "demo")
	r := f.Rollout(basicCanary)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPausedAtStep(1)
	r.WaitForServiceHash("demo-canary", r.Get().Status.CurrentPodHash)

	if err := f.Env.Rollouts.ArgoprojV1alpha1().Rollouts(f.Namespace).Delete(context.Background(), r.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"demo-stable", "demo-canary"} {
		f.WaitForObject(services, name, "released to the app", released("demo"))
	}
}

func TestABlueGreenRolloutTurnedCanaryReleasesItsActiveService(t *testing.T) {
	t.Parallel()
	f := framework.New(t).Service("bg-active", "bg").Service("bg-preview", "bg")
	r := f.Rollout(blueGreen)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.WaitForServiceHash("bg-active", r.Get().Status.StableRS)

	r.Edit(`{"spec":{"strategy":{"blueGreen":null,"canary":{"steps":[{"setWeight":50},{"pause":{}}]}},"template":{"metadata":{"annotations":{"foo":"bar"}}}}}`)
	r.WaitForPausedAtStep(1)
	for _, name := range []string{"bg-active", "bg-preview"} {
		f.WaitForObject(services, name, "released to the app", released("bg"))
	}
}

package notify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	argofake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	"github.com/serin-dev/serin/pkg/client/informers/externalversions"
)

// patchOnly is the rollouts resource of a dynamic client that patches
// through the typed fake clientset, so that the Rollouts the informer lists
// and the ones the engine patches are the same objects.
type patchOnly struct {
	dynamic.NamespaceableResourceInterface
	argo      versioned.Interface
	namespace string
}

func (p patchOnly) Namespace(ns string) dynamic.ResourceInterface {
	return patchOnly{argo: p.argo, namespace: ns}
}

func (p patchOnly) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, sub ...string) (*unstructured.Unstructured, error) {
	ro, err := p.argo.ArgoprojV1alpha1().Rollouts(p.namespace).Patch(ctx, name, pt, data, opts, sub...)
	if err != nil {
		return nil, err
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ro)
	return &unstructured.Unstructured{Object: obj}, err
}

// runConditions runs the condition path of a new Notifier over the Rollouts
// of argo until the returned stop is called.
func runConditions(t *testing.T, argo versioned.Interface, m Metrics, objs ...runtime.Object) (stop func(), inf externalversions.SharedInformerFactory) {
	t.Helper()
	n, _ := start(t, m, nil, objs...)
	inf = externalversions.NewSharedInformerFactory(argo, 0)
	rollouts := inf.Argoproj().V1alpha1().Rollouts().Informer()
	run := n.Conditions(patchOnly{argo: argo}, rollouts)
	ctx, cancel := context.WithCancel(context.Background())
	inf.Start(ctx.Done())
	inf.WaitForCacheSync(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); run(ctx, 1) }()
	return func() { cancel(); <-done; inf.Shutdown() }, inf
}

// A trigger with "when" sends once when it holds, records that in the
// Rollout's notified.notifications.argoproj.io annotation, and sends nothing
// more on later changes or for a new controller (a restart) reading the
// same Rollout.
func TestConditionsSendOnceAndRememberItOnTheRollout(t *testing.T) {
	r := newReceiver(t)
	m := newFakeMetrics()
	cm := config(controllerNS, r.srv.URL, map[string]string{
		"trigger.on-healthy": "- when: rollout.status.phase == 'Healthy'\n  send: [done]\n",
	})
	ro := rollout("shop", "web", subscribe("on-healthy", "hook", ""))
	ro.Status.Phase = v1alpha1.RolloutPhaseHealthy
	argo := argofake.NewSimpleClientset(ro)
	stop, inf := runConditions(t, argo, m, cm, secret(controllerNS))
	expectBody(t, r, "web")

	stored := waitForNotified(t, argo, true)
	if len(stored) != 1 || !strings.HasPrefix(firstKey(stored), "on-healthy:[0].") || !strings.HasSuffix(firstKey(stored), ":hook:") {
		t.Errorf("notified state %v, want one on-healthy entry for hook", stored)
	}
	// The engine put the patched Rollout back into the cache as a typed one.
	cached, _, _ := inf.Argoproj().V1alpha1().Rollouts().Informer().GetIndexer().GetByKey("shop/web")
	if _, ok := cached.(*v1alpha1.Rollout); !ok {
		t.Errorf("the cache holds a %T, want *v1alpha1.Rollout", cached)
	}
	// A later change, with the condition still holding, sends nothing.
	touch(t, argo, "1")
	stop()
	// Nor does a new controller: the state is on the Rollout.
	stop, _ = runConditions(t, argo, m, cm, secret(controllerNS))
	touch(t, argo, "2")
	// The condition stops holding, then holds again: one new message.
	setPhase(t, argo, v1alpha1.RolloutPhaseDegraded)
	waitForNotified(t, argo, false)
	setPhase(t, argo, v1alpha1.RolloutPhaseHealthy)
	expectBody(t, r, "web")
	stop()
	if len(r.bodies) != 0 {
		t.Errorf("unexpected extra message %q", <-r.bodies)
	}
}

func firstKey(m map[string]int64) string {
	for k := range m {
		return k
	}
	return ""
}

// waitForNotified returns the notified state once the Rollout has one
// (present) or once it has none (!present).
func waitForNotified(t *testing.T, argo versioned.Interface, present bool) map[string]int64 {
	t.Helper()
	for {
		ro, err := argo.ArgoprojV1alpha1().Rollouts("shop").Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v := ro.Annotations[NotifiedAnnotation]
		if !present && v == "" {
			return nil
		}
		if present && v != "" {
			state := map[string]int64{}
			if err := json.Unmarshal([]byte(v), &state); err != nil {
				t.Fatalf("notified state %q: %v", v, err)
			}
			return state
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func touch(t *testing.T, argo versioned.Interface, v string) {
	t.Helper()
	patch := []byte(`{"metadata":{"labels":{"touched":"` + v + `"}}}`)
	if _, err := argo.ArgoprojV1alpha1().Rollouts("shop").Patch(context.Background(), "web", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func setPhase(t *testing.T, argo versioned.Interface, phase v1alpha1.RolloutPhase) {
	t.Helper()
	patch := []byte(`{"status":{"phase":"` + string(phase) + `"}}`)
	if _, err := argo.ArgoprojV1alpha1().Rollouts("shop").Patch(context.Background(), "web", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// The condition path waits for the configuration: started before the
// Notifier has loaded it, it still sends for a condition that already holds,
// instead of evaluating it against an empty configuration and then waiting
// for the Rollout's next change.
func TestConditionsWaitForTheConfiguration(t *testing.T) {
	r := newReceiver(t)
	cm := config(controllerNS, r.srv.URL, map[string]string{
		"trigger.on-healthy": "- when: rollout.status.phase == 'Healthy'\n  send: [done]\n",
	})
	n, err := New(Options{Kube: fake.NewClientset(cm, secret(controllerNS)), Namespace: controllerNS, Metrics: newFakeMetrics()})
	if err != nil {
		t.Fatal(err)
	}
	ro := rollout("shop", "web", subscribe("on-healthy", "hook", ""))
	ro.Status.Phase = v1alpha1.RolloutPhaseHealthy
	argo := argofake.NewSimpleClientset(ro)
	inf := externalversions.NewSharedInformerFactory(argo, 0)
	run := n.Conditions(patchOnly{argo: argo}, inf.Argoproj().V1alpha1().Rollouts().Informer())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inf.Start(ctx.Done())
	inf.WaitForCacheSync(ctx.Done())
	go run(ctx, 1)
	// Time for a controller that did not wait to evaluate the Rollout.
	time.Sleep(200 * time.Millisecond)
	go func() { _ = n.Run(ctx) }()
	expectBody(t, r, "web")
}

package notify

import (
	"context"
	"encoding/json"
	"fmt"

	notifycontroller "github.com/argoproj/notifications-engine/pkg/controller"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// NotifiedAnnotation is where the conditions already notified are kept on
// a Rollout: a JSON object from "[oncePer:]trigger:condition:service:recipient"
// (the configuration's namespace first under self-service) to the Unix time
// it was sent.
const NotifiedAnnotation = "notified.notifications.argoproj.io"

// Conditions is Argo Rollouts' second path, the engine's own controller: on
// every change of a Rollout in the rollouts cache it evaluates each trigger
// the Rollout is subscribed to and, for a condition with "when" that holds
// and was not notified yet, sends and records it in NotifiedAnnotation with
// a merge patch of the Rollout (client must be the rollouts resource). A
// condition that stops holding is forgotten, so it sends again the next time
// it holds. A failed send is not recorded, so the next change retries it.
//
// rollouts must cache *v1alpha1.Rollout: the patched Rollout the engine puts
// back in the cache is converted to one first. The returned function runs
// the controller with workers goroutines until ctx is done, once Run has
// loaded the configuration: evaluated before, a condition that holds would
// wait for the Rollout's next change.
func (n *Notifier) Conditions(client dynamic.NamespaceableResourceInterface, rollouts cache.SharedIndexInformer) func(ctx context.Context, workers int) {
	newController := notifycontroller.NewController
	if n.opts.SelfService {
		newController = notifycontroller.NewControllerWithNamespaceSupport
	}
	c := newController(client, typedInformer{rollouts}, n.factory, notifycontroller.WithToUnstructured(toUnstructured))
	return func(ctx context.Context, workers int) {
		if cache.WaitForCacheSync(ctx.Done(), n.synced...) {
			c.Run(workers, ctx.Done())
		}
	}
}

// toUnstructured is the Rollout as the engine evaluates it.
func toUnstructured(obj metav1.Object) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(data, &u.Object); err != nil {
		return nil, err
	}
	return u, nil
}

// typedInformer is a Rollout informer whose store takes the unstructured
// Rollouts the engine writes back after its patch, as typed Rollouts, so
// that the controller's listers only ever see typed objects.
type typedInformer struct {
	cache.SharedIndexInformer
}

func (i typedInformer) GetStore() cache.Store { return typedStore{i.SharedIndexInformer.GetStore()} }

type typedStore struct {
	cache.Store
}

// Update converts an unstructured Rollout to a typed one before storing it.
func (s typedStore) Update(obj any) error {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return s.Store.Update(obj)
	}
	ro := &v1alpha1.Rollout{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ro); err != nil {
		return fmt.Errorf("the patched Rollout %s/%s is not a Rollout: %w", u.GetNamespace(), u.GetName(), err)
	}
	ro.ManagedFields = nil
	return s.Store.Update(ro)
}

package rollout

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
)

// ownerLookup answers, for an object a Rollout marked as its own, whether
// that Rollout lives on outside this controller instance's cache (it
// belongs to another --instance-id), in which case the object is left
// alone. A Rollout not cached is looked up once by name; the answer is
// remembered per resourceVersion of the marked object, so a resync asks
// nothing again.
type ownerLookup struct {
	client   versioned.Interface
	rollouts cache.Indexer

	mu sync.Mutex
	// foreign maps "uid/owner" of objects managed by another instance's
	// Rollout to the resourceVersion they were seen at.
	foreign map[string]string
}

// maxForeign bounds the memory of foreign objects; past it, it starts over.
const maxForeign = 10000

func newOwnerLookup(client versioned.Interface, rollouts cache.Indexer) *ownerLookup {
	return &ownerLookup{client: client, rollouts: rollouts, foreign: map[string]string{}}
}

// elsewhere tells whether Rollout namespace/owner, which marked obj, is a
// live Rollout this instance does not cache.
func (o *ownerLookup) elsewhere(ctx context.Context, obj metav1.Object, namespace, owner string) (bool, error) {
	key := string(obj.GetUID()) + "/" + namespace + "/" + owner
	o.mu.Lock()
	rv, known := o.foreign[key]
	o.mu.Unlock()
	if known && rv == obj.GetResourceVersion() {
		return true, nil
	}
	if o.client == nil {
		return false, nil
	}
	if _, cached, _ := o.rollouts.GetByKey(namespace + "/" + owner); cached {
		return false, nil // ours, and it no longer uses the object
	}
	ro, err := o.client.ArgoprojV1alpha1().Rollouts(namespace).Get(ctx, owner, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	case ro.DeletionTimestamp != nil:
		return false, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.foreign) >= maxForeign {
		clear(o.foreign)
	}
	o.foreign[key] = obj.GetResourceVersion()
	return true, nil
}

package rollout

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// observeRouter reads into st the objects one router needs: its
// references, then, for a Follower, the objects those name.
func (r *Reconciler) observeRouter(ro *v1alpha1.Rollout, router trafficrouting.Router, st *plan.State) error {
	if err := r.observeRefs(router, router.References(ro), st); err != nil {
		return err
	}
	if f, ok := router.(trafficrouting.Follower); ok {
		return r.observeRefs(router, f.Follow(ro, st.RouterObjects), st)
	}
	return nil
}

// observeRefs reads the referenced objects; a reference with a selector
// reads every matching object of its namespace. A missing object is left
// out; an unreadable one is a router error.
func (r *Reconciler) observeRefs(router trafficrouting.Router, refs []trafficrouting.Ref, st *plan.State) error {
	for _, ref := range refs {
		if ref.Selector != "" {
			if err := r.observeSelected(router, ref, st); err != nil {
				return err
			}
			continue
		}
		obj, err := r.o.Objects.Get(ref.Resource, ref.Namespace, ref.Name)
		if err == errNotSynced {
			return err
		}
		if err != nil {
			st.RouterErrors = append(st.RouterErrors, fmt.Errorf("%s %s: %w", router.Type(), ref.Name, err))
			continue
		}
		if obj != nil {
			st.RouterObjects[ref] = obj
		}
	}
	return nil
}

func (r *Reconciler) observeSelected(router trafficrouting.Router, ref trafficrouting.Ref, st *plan.State) error {
	sel, err := labels.Parse(ref.Selector)
	if err != nil {
		st.RouterErrors = append(st.RouterErrors, fmt.Errorf("%s: label selector %q: %w", router.Type(), ref.Selector, err))
		return nil
	}
	objs, err := r.o.Objects.List(ref.Resource, ref.Namespace)
	if err == errNotSynced {
		return err
	}
	if err != nil {
		st.RouterErrors = append(st.RouterErrors, fmt.Errorf("%s %s: %w", router.Type(), ref.Resource.Resource, err))
		return nil
	}
	for _, obj := range objs {
		if sel.Matches(labels.Set(obj.GetLabels())) {
			st.RouterObjects[trafficrouting.Ref{Resource: ref.Resource, Namespace: obj.GetNamespace(), Name: obj.GetName()}] = obj
		}
	}
	return nil
}

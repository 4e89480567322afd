package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OwnerIndex names an informer index from the UID of an object's controller
// (its controlling owner reference) to the object, so that what one Rollout
// owns is found without listing a whole namespace.
const OwnerIndex = "controller-uid"

// OwnerIndexFunc is the index function of OwnerIndex.
func OwnerIndexFunc(obj any) ([]string, error) {
	o, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(o); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}

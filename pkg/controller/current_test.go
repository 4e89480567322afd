package controller

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestCurrentActsOnlyOnALiveObjectTheCacheHasCaughtUpWith(t *testing.T) {
	key := cache.NewObjectName("shop", "demo")
	clock := clocktesting.NewFakePassiveClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	written := &Writes{Clock: clock}
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "demo", ResourceVersion: "5"}}
	var getErr error
	get := func(namespace, name string) (*corev1.ConfigMap, error) {
		if namespace != "shop" || name != "demo" {
			t.Fatalf("read %s/%s", namespace, name)
		}
		return obj, getErr
	}
	ctx := context.Background()

	if _, act, _, err := Current(ctx, key, written, get); !act || err != nil {
		t.Fatalf("a live object is acted on: act %v, err %v", act, err)
	}
	written.Wrote(key, "5", "6")
	if _, act, res, _ := Current(ctx, key, written, get); act || res.RequeueAfter <= 0 || res.RequeueAfter > WriteGuardTTL {
		t.Fatalf("behind our write: act %v, requeue %s", act, res.RequeueAfter)
	}
	obj.ResourceVersion = "6"
	if _, act, _, _ := Current(ctx, key, written, get); !act {
		t.Fatal("once the cache shows our write, the object is acted on")
	}
	now := metav1.NewTime(clock.Now())
	obj.DeletionTimestamp = &now
	if _, act, res, err := Current(ctx, key, written, get); act || err != nil || res.RequeueAfter != 0 {
		t.Fatalf("an object being deleted is left alone: act %v, err %v, requeue %s", act, err, res.RequeueAfter)
	}
	obj.DeletionTimestamp = nil
	written.Wrote(key, "6", "7")
	getErr = apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, "demo")
	if _, act, _, err := Current(ctx, key, written, get); act || err != nil {
		t.Fatalf("a gone object: act %v, err %v", act, err)
	}
	getErr = nil
	if _, act, _, _ := Current(ctx, key, written, get); !act {
		t.Fatal("a gone object's write record is dropped: a new object under the name is acted on at once")
	}
}

package rollout

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// BenchmarkReconcileConverged is a full reconcile (listers, plan, apply) of
// an idle Rollout among 1000 in the cache: what a resync costs per Rollout.
// It fails if any reconcile reaches the API server.
//
//	go test ./pkg/rollout -run '^$' -bench ReconcileConverged -benchmem
func BenchmarkReconcileConverged(b *testing.B) {
	// Converge one Rollout, then clone it (and its ReplicaSet) 1000 times.
	seed := newFixture(b, demoRollout())
	seed.reconcile("demo")
	ro, _ := seed.rollouts.ArgoprojV1alpha1().Rollouts("default").Get(context.Background(), "demo", metav1.GetOptions{})
	rsList, _ := seed.kube.AppsV1().ReplicaSets("default").List(context.Background(), metav1.ListOptions{})
	rs := rsList.Items[0]
	rs.Status = appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}
	settle := newFixture(b, ro, &rs)
	for i := 0; i < 5; i++ {
		settle.reconcile("demo")
		updated, _ := settle.rollouts.ArgoprojV1alpha1().Rollouts("default").Get(context.Background(), "demo", metav1.GetOptions{})
		settle.roIndex.Update(updated)
	}
	converged, _ := settle.rollouts.ArgoprojV1alpha1().Rollouts("default").Get(context.Background(), "demo", metav1.GetOptions{})
	var objs []runtime.Object
	for i := 0; i < 1000; i++ {
		r := converged.DeepCopy()
		r.Name = fmt.Sprintf("demo-%d", i)
		r.UID = types.UID(fmt.Sprintf("uid-%d", i))
		c := rs.DeepCopy()
		c.Name = fmt.Sprintf("demo-%d-%s", i, rs.Labels["rollouts-pod-template-hash"])
		c.OwnerReferences[0].UID = r.UID
		c.OwnerReferences[0].Name = r.Name
		r.Annotations = converged.Annotations
		objs = append(objs, r, c)
	}
	f := newFixture(b, objs...)
	keys := make([]cache.ObjectName, 1000)
	for i := range keys {
		keys[i] = cache.ObjectName{Namespace: "default", Name: fmt.Sprintf("demo-%d", i)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := f.r.Reconcile(context.Background(), keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if n := len(f.kube.Actions()) + len(f.rollouts.Actions()); n != 0 {
		b.Fatalf("converged Rollouts made %d API requests", n)
	}
}

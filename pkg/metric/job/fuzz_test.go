package job

import (
	"context"
	"encoding/json"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzResume feeds a Job's status and one of its pods, as the API server
// would describe them, to Resume: no panic, a storable measurement, and a
// time to look again exactly when it is still Running.
func FuzzResume(f *testing.F) {
	f.Add([]byte(`{"status":{"conditions":[{"type":"Complete","status":"True"}]}}`), []byte(`{}`))
	f.Add([]byte(`{"status":{"conditions":[{"type":"Failed","status":"True"},{"type":"Complete","status":"False"}]}}`), []byte(`{}`))
	f.Add([]byte(`{"spec":{"selector":{"matchLabels":{"batch.kubernetes.io/job-name":"j"}}},"status":{"active":1}}`),
		[]byte(`{"metadata":{"labels":{"batch.kubernetes.io/job-name":"j"}},"status":{"containerStatuses":[{"name":"c","state":{"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image"}}}]}}`))
	f.Add([]byte(`{"spec":{"selector":{"matchExpressions":[{"key":"a","operator":"Bogus"}]}}}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, jobJSON, podJSON []byte) {
		var j batchv1.Job
		var pod corev1.Pod
		if json.Unmarshal(jobJSON, &j) != nil || json.Unmarshal(podJSON, &pod) != nil {
			return
		}
		j.ObjectMeta = metav1.ObjectMeta{Name: "j", Namespace: "apps"}
		pod.Name, pod.Namespace = "j-abcde", "apps"
		jobs := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		pods := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		_ = jobs.Add(&j)
		_ = pods.Add(&pod)
		p := New(Options{Lister: batchlisters.NewJobLister(jobs), Pods: corelisters.NewPodLister(pods), Clock: clocktesting.NewFakePassiveClock(t0)})
		got := p.Resume(context.Background(), testRun(), jobMetric(), inFlight("j"))
		metrictest.WantStorable(t, got)
		if running := got.Phase == "Running"; running != (got.ResumeAt != nil) {
			t.Fatalf("phase %s with resumeAt %v", got.Phase, got.ResumeAt)
		}
	})
}

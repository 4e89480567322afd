package notify

import (
	"net/http"
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// A receiver that does not answer never holds up the code recording events:
// Event returns at once, while the message waits in the queue, and an event
// that finds the queue full is dropped and counted as a failed
// notification instead of waiting.
func TestASlowReceiverDoesNotBlockRecording(t *testing.T) {
	arrived := make(chan string, 10)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		arrived <- req.URL.Path
		<-release
	}))
	t.Cleanup(srv.Close)
	m := newFakeMetrics()
	cm := config(controllerNS, srv.URL, map[string]string{"trigger.on-rollout-step-completed": "- send: [done]\n"})
	n, _ := start(t, m, func(o *Options) { o.Workers, o.QueueSize = 1, 1 }, cm, secret(controllerNS))
	t.Cleanup(func() { close(release) }) // runs before the Notifier stops
	inner := record.NewFakeRecorder(10)
	rec := n.Recorder(inner)
	ro := rollout("shop", "web", subscribe("on-rollout-step-completed", "hook", ""))

	rec.Event(ro, corev1.EventTypeNormal, v1alpha1.EventRolloutStepCompleted, "step 1")
	<-arrived                                                                           // the worker is now stuck in the first send
	rec.Event(ro, corev1.EventTypeNormal, v1alpha1.EventRolloutStepCompleted, "step 2") // queued
	rec.Event(ro, corev1.EventTypeNormal, v1alpha1.EventRolloutStepCompleted, "step 3") // queue full

	if got := <-m.outcome; got != (metricCall{"failed", "shop", "web", corev1.EventTypeNormal, v1alpha1.EventRolloutStepCompleted}) {
		t.Errorf("metrics got %+v, want the dropped event counted as failed", got)
	}
	if len(inner.Events) != 3 {
		t.Errorf("the wrapped recorder got %d events, want all 3", len(inner.Events))
	}
}

package notify

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestTriggerNameIsOnPlusKebabCaseReason(t *testing.T) {
	for reason, want := range map[string]string{
		v1alpha1.EventRolloutCompleted:     "on-rollout-completed",
		v1alpha1.EventRolloutStepCompleted: "on-rollout-step-completed",
		v1alpha1.EventRolloutUpdated:       "on-rollout-updated",
		v1alpha1.EventRolloutPaused:        "on-rollout-paused",
		v1alpha1.EventRolloutAborted:       "on-rollout-aborted",
		v1alpha1.EventScalingReplicaSet:    "on-scaling-replica-set",
		"AnalysisRunRunning":               "on-analysis-run-running",
		"AnalysisRunError":                 "on-analysis-run-error",
		"AnalysisRunFailed":                "on-analysis-run-failed",
		"ABCd":                             "on-ab-cd",
		"Step2Done":                        "on-step2-done",
		"HTTPError":                        "on-http-error",
	} {
		if got := TriggerName(reason); got != want {
			t.Errorf("TriggerName(%q) = %q, want %q", reason, got, want)
		}
	}
}

// An event runs the trigger of its reason for the destinations subscribed
// by annotation: a condition without "when" sends, one whose "when" is
// false does not, and an event nobody subscribed to sends nothing. The
// original recorder still gets every event.
func TestEventsSendToAnnotatedSubscriptions(t *testing.T) {
	r := newReceiver(t)
	m := newFakeMetrics()
	cm := config(controllerNS, r.srv.URL+"/hook", map[string]string{
		"trigger.on-rollout-completed": "- send: [done]\n",
		"trigger.on-rollout-paused":    "- when: \"false\"\n  send: [done]\n- when: rollout.metadata.name == 'web'\n  send: [done]\n",
	})
	n, _ := start(t, m, nil, cm, secret(controllerNS))
	inner := record.NewFakeRecorder(10)
	rec := n.Recorder(inner)
	ann := subscribe("on-rollout-completed", "hook", "")
	ann["notifications.argoproj.io/subscribe.on-rollout-paused.hook"] = ""

	rec.Event(rollout("shop", "other", nil), corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "not subscribed")
	rec.Event(rollout("shop", "web", ann), corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "done")
	expectBody(t, r, "/hook web 2026-11-29 03:00:00")
	if got := <-m.outcome; got != (metricCall{"sent", "shop", "web", corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted}) {
		t.Errorf("metrics got %+v", got)
	}
	rec.Event(rollout("shop", "web", ann), corev1.EventTypeNormal, v1alpha1.EventRolloutPaused, "paused")
	expectBody(t, r, "/hook web")
	<-m.outcome
	rec.Event(rollout("shop", "web", ann), corev1.EventTypeNormal, v1alpha1.EventRolloutResumed, "no trigger")
	rec.Event(rollout("shop", "web", ann), corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "done again")
	expectBody(t, r, "/hook web")
	<-m.outcome
	if extra := len(r.bodies); extra != 0 {
		t.Errorf("%d messages more than the subscribed conditions that hold", extra)
	}
	if len(inner.Events) != 5 {
		t.Errorf("wrapped recorder got %d events, want 5", len(inner.Events))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.calls) != 3 {
		t.Errorf("metrics calls %+v, want 3 sent", m.calls)
	}
}

// The ConfigMap's default subscriptions apply to objects whose labels match,
// without annotations, and a destination listed twice gets one message.
func TestDefaultSubscriptionsAndDuplicateDestinations(t *testing.T) {
	r := newReceiver(t)
	m := newFakeMetrics()
	cm := config(controllerNS, r.srv.URL, map[string]string{
		"trigger.on-rollout-completed": "- send: [done]\n",
		"subscriptions":                "- recipients: [hook]\n  triggers: [on-rollout-completed]\n  selector: team=shop\n",
	})
	n, _ := start(t, m, nil, cm, secret(controllerNS))
	rec := n.Recorder(record.NewFakeRecorder(10))
	labelled := rollout("shop", "web", subscribe("on-rollout-completed", "hook", ""))
	labelled.Labels = map[string]string{"team": "shop"}
	rec.Event(rollout("shop", "unlabelled", nil), corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "x")
	rec.Event(labelled, corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "x")
	expectBody(t, r, "web")
	<-m.outcome
	rec.Event(rollout("shop", "last", subscribe("on-rollout-completed", "hook", "")), corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "x")
	expectBody(t, r, "last")
	if len(r.bodies) != 0 {
		t.Errorf("unexpected extra message %q", <-r.bodies)
	}
}

// With self-service, the configuration in the Rollout's namespace applies
// after the controller namespace's; without it, only the controller
// namespace's does.
func TestSelfServiceReadsTheRolloutsNamespace(t *testing.T) {
	for _, selfService := range []bool{false, true} {
		r := newReceiver(t)
		m := newFakeMetrics()
		completed := map[string]string{"trigger.on-rollout-completed": "- send: [done]\n"}
		n, _ := start(t, m, func(o *Options) { o.SelfService = selfService },
			config(controllerNS, r.srv.URL+"/own", completed), secret(controllerNS),
			config("shop", r.srv.URL+"/shop", completed), secret("shop"))
		rec := n.Recorder(record.NewFakeRecorder(10))
		ro := rollout("shop", "web", subscribe("on-rollout-completed", "hook", ""))
		rec.Event(ro, corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "first")
		rec.Event(ro, corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "second")
		expectBody(t, r, "/own web")
		if selfService {
			expectBody(t, r, "/shop web")
		}
		// The second event's first message comes next in either case.
		expectBody(t, r, "/own web")
	}
}

// A receiver that fails is counted once per message in
// notification_send_error, and neither the log nor the error text shows
// the Secret's values (here, part of the webhook URL).
func TestFailuresAreCountedAndSecretsRedacted(t *testing.T) {
	r := newReceiver(t)
	r.answer = func(int) int { return 500 }
	m := newFakeMetrics()
	cm := config(controllerNS, r.srv.URL+"/$token", map[string]string{"trigger.on-rollout-aborted": "- send: [done]\n"})
	n, logs := start(t, m, nil, cm, secret(controllerNS))
	rec := n.Recorder(record.NewFakeRecorder(10))
	rec.Event(rollout("shop", "web", subscribe("on-rollout-aborted", "hook", "")), corev1.EventTypeWarning, v1alpha1.EventRolloutAborted, "x")
	if got := <-m.outcome; got != (metricCall{"failed", "shop", "web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted}) {
		t.Errorf("metrics got %+v, want a failure", got)
	}
	out := logs.String()
	if strings.Contains(out, secretToken) {
		t.Errorf("the log shows the Secret's value:\n%s", out)
	}
	if !strings.Contains(out, "Sending a notification failed") || !strings.Contains(out, Redacted) {
		t.Errorf("the log does not report the failure with the value redacted:\n%s", out)
	}
}

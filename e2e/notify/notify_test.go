package notify

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// canary is a two-replica canary Rollout with the given steps, subscribed
// by annotation to the given triggers on both services.
func canary(steps string, triggers ...string) string {
	var ann strings.Builder
	for _, t := range triggers {
		fmt.Fprintf(&ann, "    notifications.argoproj.io/subscribe.%s.hook: \"\"\n", t)
		fmt.Fprintf(&ann, "    notifications.argoproj.io/subscribe.%s.slack: deployments\n", t)
	}
	return `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: demo
  annotations:
` + ann.String() + `spec:
  replicas: 2
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: demo:v1
  strategy:
    canary:
      steps:
` + steps
}

const twoSteps = `      - setWeight: 50
      - pause: {duration: 1s}
`

// settle lets messages that should not come have their chance to.
func settle() { time.Sleep(5 * time.Second) }

// A canary that completes sends one on-rollout-step-completed per step and
// one on-rollout-completed, on the webhook and on Slack, with the Secret's
// credentials; the controller's log never shows them.
func TestCompletedCanarySendsEachStepAndCompletedOnce(t *testing.T) {
	f := framework.New(t)
	r := f.Rollout(canary(twoSteps, "on-rollout-step-completed", "on-rollout-completed"))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 2})
	settle()
	before := len(receivers.received(f.Namespace, "hook", "completed"))

	r.SetImage("demo:v2")
	r.WaitForReplicas(map[string]int32{"rev2": 2}).WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	for _, service := range []string{"hook", "slack"} {
		receivers.waitFor(t, f.Namespace, service, "step-completed", 2)
		receivers.waitFor(t, f.Namespace, service, "completed", before+1)
	}
	settle()
	for _, service := range []string{"hook", "slack"} {
		if n := len(receivers.received(f.Namespace, service, "step-completed")); n != 2 {
			t.Errorf("%s: %d step-completed messages, want one per step (2)", service, n)
		}
		if n := len(receivers.received(f.Namespace, service, "completed")); n != before+1 {
			t.Errorf("%s: %d completed messages, want %d", service, n, before+1)
		}
	}
	if m := receivers.received(f.Namespace, "slack", "completed"); !strings.Contains(m[len(m)-1].text, "channel=deployments") {
		t.Errorf("the Slack message went to %q, want the subscribed channel", m[len(m)-1].text)
	}
	expectNoSecretInLog(t, f)
}

func expectNoSecretInLog(t *testing.T, f *framework.T) {
	t.Helper()
	for _, secret := range []string{hookToken, slackToken} {
		if found, err := f.Env.LogContains(secret); err != nil || found {
			t.Errorf("the controller log shows a notification Secret value (err %v)", err)
		}
	}
}

const failingGate = `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: gate
spec:
  metrics:
  - name: gate
    count: 1
    failureLimit: 0
    successCondition: result == 1
    provider:
      web:
        url: %s/metric
        jsonPath: "{$.value}"
`

// A canary aborted by a failed analysis sends on-rollout-aborted, whose
// template reads the AnalysisRun's message from analysisRuns.
func TestAbortedCanarySendsTheAnalysisMessage(t *testing.T) {
	f := framework.New(t)
	f.AnalysisTemplate(fmt.Sprintf(failingGate, receivers.url))
	steps := `      - setWeight: 50
      - analysis:
          templates:
          - templateName: gate
`
	r := f.Rollout(canary(steps, "on-rollout-aborted"))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForPhase(v1alpha1.RolloutPhaseDegraded)
	for _, service := range []string{"hook", "slack"} {
		got := receivers.waitFor(t, f.Namespace, service, "aborted", 1)
		if !strings.Contains(got[0].text, `Metric "gate" assessed Failed`) {
			t.Errorf("%s: aborted message %q does not carry the analysis message", service, got[0].text)
		}
	}
}

// A webhook that answers 500 is retried (retryMax: 1, so two attempts per
// message): the first step's message fails both attempts and is counted in
// notification_send_error, the second step's succeeds on its retry, and the
// rollout completes all the same.
func TestFailingReceiverIsRetriedCountedAndDoesNotStopTheRollout(t *testing.T) {
	f := framework.New(t)
	r := f.Rollout(canary(twoSteps, "on-rollout-step-completed"))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy).WaitForReplicas(map[string]int32{"rev1": 2})
	receivers.failNext(f.Namespace, 3)
	r.SetImage("demo:v2")
	r.WaitForReplicas(map[string]int32{"rev2": 2}).WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	receivers.waitFor(t, f.Namespace, "slack", "step-completed", 2)
	receivers.waitFor(t, f.Namespace, "hook", "step-completed", 1)

	series := func(name string) float64 {
		text, err := f.Env.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(name + `\{[^}]*namespace="` + regexp.QuoteMeta(f.Namespace) + `"[^}]*reason="RolloutStepCompleted"[^}]*\} (\S+)`)
		m := re.FindStringSubmatch(text)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	if got := series("notification_send_error"); got != 1 {
		t.Errorf("notification_send_error = %v, want 1 (the first step's webhook message)", got)
	}
	if got := series("notification_send_success"); got != 3 {
		t.Errorf("notification_send_success = %v, want 3 (two on Slack, one webhook after its retry)", got)
	}
	receivers.mu.Lock()
	attempts := receivers.attempts[f.Namespace]
	receivers.mu.Unlock()
	if attempts != 4 {
		t.Errorf("the webhook got %d requests, want 4 (two per message)", attempts)
	}
}

// A restarted controller sends nothing again: not the events' messages,
// and not a condition's, which the Rollout's
// notified.notifications.argoproj.io annotation remembers.
func TestRestartDoesNotResend(t *testing.T) {
	f := framework.New(t)
	r := f.Rollout(canary(twoSteps, "on-rollout-step-completed", "on-rollout-completed", "on-image-v2"))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("demo:v2")
	r.WaitForReplicas(map[string]int32{"rev2": 2}).WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	receivers.waitFor(t, f.Namespace, "slack", "image-v2", 1)
	receivers.waitFor(t, f.Namespace, "slack", "step-completed", 2)
	settle()
	if r.Get().Annotations["notified.notifications.argoproj.io"] == "" {
		t.Error("the Rollout has no notified.notifications.argoproj.io state")
	}
	count := func() map[string]int {
		out := map[string]int{}
		for _, kind := range []string{"image-v2", "step-completed", "completed"} {
			for _, service := range []string{"hook", "slack"} {
				out[service+"/"+kind] = len(receivers.received(f.Namespace, service, kind))
			}
		}
		return out
	}
	before := count()
	f.Env.KillController()
	if err := f.Env.StartController(); err != nil {
		t.Fatal(err)
	}
	// The successor waits out the dead leader's lease (4s), then lists every Rollout.
	time.Sleep(12 * time.Second)
	after := count()
	for k, n := range before {
		if after[k] != n {
			t.Errorf("%s: %d messages before the restart, %d after", k, n, after[k])
		}
	}
}

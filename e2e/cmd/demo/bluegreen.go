package main

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// demoBlueGreen runs the new version beside the old behind a preview
// Service, and switches the active Service when promoted.
const demoBlueGreen = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: ledger
spec:
  replicas: 3
  selector:
    matchLabels: {app: ledger}
  template:
    metadata:
      labels: {app: ledger}
    spec:
      containers:
      - name: ledger
        image: registry.example.com/ledger:v1
  strategy:
    blueGreen:
      activeService: ledger-active
      previewService: ledger-preview
      autoPromotionEnabled: false
      scaleDownDelaySeconds: 5
`

// blueGreen tells the blue-green chapter.
func (s *story) blueGreen() error {
	for _, name := range []string{"ledger-active", "ledger-preview"} {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "ledger"},
				Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}
		if _, err := s.kube.CoreV1().Services(s.ns).Create(s.ctx, svc, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	ro := &v1alpha1.Rollout{}
	if err := yaml.UnmarshalStrict([]byte(demoBlueGreen), ro); err != nil {
		return err
	}
	say("")
	say("Chapter 4: a blue-green release. Rollout demo/ledger (3 replicas) behind Services ledger-active")
	say("and ledger-preview; promotion is manual and the old version stays 5s after the switch.")
	if _, err := s.rollouts.ArgoprojV1alpha1().Rollouts(s.ns).Create(s.ctx, ro, metav1.CreateOptions{}); err != nil {
		return err
	}
	w := s.watcher("ledger", "ledger-active", "ledger-preview")
	if err := w.until(healthy, "blue (v1) is live"); err != nil {
		return err
	}
	say("Releasing green (v2): it comes up in full behind the preview Service, while active stays on blue.")
	if err := s.setImageOf("ledger", "registry.example.com/ledger:v2"); err != nil {
		return err
	}
	if err := w.until(pausedWith(v1alpha1.PauseReasonBlueGreenPause), "green waits for a promote"); err != nil {
		return err
	}
	say("Promoting (kubectl argo rollouts promote ledger): the active Service switches at once.")
	if err := s.patchStatusOf("ledger", `{"status":{"pauseConditions":null}}`); err != nil {
		return err
	}
	return w.until(healthyWithOnePodSet, "green is live and blue was scaled down after its delay")
}

// watcher narrates one Rollout and its two Services.
type watcher struct {
	s                *story
	name, svcA, svcB string
	last             string
}

func (s *story) watcher(name, svcA, svcB string) *watcher {
	return &watcher{s: s, name: name, svcA: svcA, svcB: svcB}
}

func (w *watcher) until(done func(*v1alpha1.Rollout) bool, goal string) error {
	return w.s.poll(goal, func() (bool, error) {
		ro, err := w.s.rollouts.ArgoprojV1alpha1().Rollouts(w.s.ns).Get(w.s.ctx, w.name, metav1.GetOptions{})
		if err != nil || ro.Status.Phase == "" || ro.Status.ObservedGeneration != fmt.Sprint(ro.Generation) {
			return false, nil
		}
		phase := string(ro.Status.Phase)
		if ro.Status.Message != "" {
			phase += " (" + ro.Status.Message + ")"
		}
		line := fmt.Sprintf("%s | pods: %s | services: %s", phase, w.s.replicaSetsOf(ro), w.s.servicesOf(ro, w.svcA, w.svcB))
		if line != w.last {
			say("  %s", line)
			w.last = line
		}
		return done(ro), nil
	})
}

func pausedWith(reason v1alpha1.PauseReason) func(*v1alpha1.Rollout) bool {
	return func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.Message == string(reason)
	}
}

func healthyWithOnePodSet(ro *v1alpha1.Rollout) bool {
	return healthy(ro) && ro.Status.Replicas == *ro.Spec.Replicas
}

// prefixOf trims a Service name to its role for narration.
func prefixOf(name string) string {
	if i := strings.LastIndex(name, "-"); i >= 0 {
		return name[i+1:]
	}
	return name
}

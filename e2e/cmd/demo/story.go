package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
)

// demoRollout is a replica-based canary: the canary's share of pods behind
// the Service is its share of traffic.
const demoRollout = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: guestbook
spec:
  replicas: 5
  selector:
    matchLabels: {app: guestbook}
  template:
    metadata:
      labels: {app: guestbook}
    spec:
      containers:
      - name: guestbook
        image: registry.example.com/guestbook:v1
  strategy:
    canary:
      stableService: guestbook-stable
      canaryService: guestbook-canary
      abortScaleDownDelaySeconds: 3
      scaleDownDelaySeconds: 3
      trafficRouting:
        istio:
          virtualService:
            name: guestbook
            routes: [primary]
      steps:
      - setWeight: 20
      - pause: {}
      - analysis:
          templates:
          - templateName: success-rate
      - setWeight: 50
      - pause: {duration: 5s}
`

// demoVirtualService is the Istio VirtualService whose weights Serin moves.
const demoVirtualService = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: guestbook
spec:
  hosts: [guestbook]
  http:
  - name: primary
    route:
    - destination: {host: guestbook-stable}
      weight: 100
    - destination: {host: guestbook-canary}
      weight: 0
`

// demoTemplate checks the canary's success rate in Prometheus three times,
// two seconds apart; one bad measurement fails the analysis.
const demoTemplate = `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  metrics:
  - name: success-rate
    interval: 2s
    count: 3
    successCondition: result[0] >= 0.99
    provider:
      prometheus:
        address: %s
        query: success_rate{service="guestbook-canary"}
`

var virtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "virtualservices"}

// weights reads the VirtualService's split, as a mesh would apply it.
func (s *story) weights() string {
	vs, err := s.dynamic.Resource(virtualServices).Namespace(s.ns).Get(s.ctx, "guestbook", metav1.GetOptions{})
	if err != nil {
		return "?"
	}
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	var stable, canary int64
	for _, r := range routes {
		dests, _, _ := unstructured.NestedSlice(r.(map[string]any), "route")
		for _, d := range dests {
			host, _, _ := unstructured.NestedString(d.(map[string]any), "destination", "host")
			w, _, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
			switch host {
			case "guestbook-stable":
				stable = w
			case "guestbook-canary":
				canary = w
			}
		}
	}
	return fmt.Sprintf("stable %d%% canary %d%%", stable, canary)
}

type story struct {
	dynamic    dynamic.Interface
	ctx        context.Context
	kube       kubernetes.Interface
	rollouts   versioned.Interface
	ns         string
	last       string
	prometheus string
	// setSuccessRate sets the canary's success rate that Prometheus scrapes.
	setSuccessRate func(float64) error
	// serinBin is bin/kubectl-serin; kubeconfig reaches the demo's cluster.
	serinBin, kubeconfig string
}

func (s *story) tell() error {
	if err := s.setUp(); err != nil {
		return err
	}
	for _, chapter := range []func() error{s.firstDeploy, s.goodRelease, s.badRelease, s.blueGreen, s.explainAndPlan} {
		if err := chapter(); err != nil {
			return err
		}
	}
	return nil
}

// setUp creates the namespace, the two Services, the analysis template and
// the VirtualService the story's Rollout uses.
func (s *story) setUp() error {
	if _, err := s.kube.CoreV1().Namespaces().Create(s.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	for _, name := range []string{"guestbook-stable", "guestbook-canary"} {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "guestbook"},
				Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}
		if _, err := s.kube.CoreV1().Services(s.ns).Create(s.ctx, svc, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	at := &v1alpha1.AnalysisTemplate{}
	if err := yaml.UnmarshalStrict([]byte(fmt.Sprintf(demoTemplate, s.prometheus)), at); err != nil {
		return err
	}
	if _, err := s.rollouts.ArgoprojV1alpha1().AnalysisTemplates(s.ns).Create(s.ctx, at, metav1.CreateOptions{}); err != nil {
		return err
	}
	vs := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(demoVirtualService), &vs.Object); err != nil {
		return err
	}
	_, err := s.dynamic.Resource(virtualServices).Namespace(s.ns).Create(s.ctx, vs, metav1.CreateOptions{})
	return err
}

// firstDeploy is chapter 1.
func (s *story) firstDeploy() error {
	ro := &v1alpha1.Rollout{}
	if err := yaml.UnmarshalStrict([]byte(demoRollout), ro); err != nil {
		return err
	}
	say("")
	say("Chapter 1: a first deploy. Applying Rollout demo/guestbook (5 replicas) with Services guestbook-stable")
	say("and guestbook-canary and the Istio VirtualService guestbook, whose weights Serin moves. Steps: 20%% ->")
	say("pause -> analysis of the canary's success rate in Prometheus (>= 99%%, 3 measurements) -> 50%% -> pause 5s.")
	if _, err := s.rollouts.ArgoprojV1alpha1().Rollouts(s.ns).Create(s.ctx, ro, metav1.CreateOptions{}); err != nil {
		return err
	}
	return s.watchUntil(healthy, "the first revision is stable")
}

// goodRelease is chapter 2: a canary that passes its analysis.
func (s *story) goodRelease() error {
	say("")
	say("Chapter 2: releasing v2 (kubectl argo rollouts set image guestbook guestbook=...:v2); its canary")
	say("answers 99.5%% of requests successfully.")
	if err := s.setSuccessRate(0.995); err != nil {
		return err
	}
	if err := s.setImage("registry.example.com/guestbook:v2"); err != nil {
		return err
	}
	if err := s.watchUntil(pausedAt(1), "the canary waits at the pause step"); err != nil {
		return err
	}
	say("Promoting past the pause (kubectl argo rollouts promote guestbook); the analysis decides the rest.")
	if err := s.patchStatus(`{"status":{"pauseConditions":null}}`); err != nil {
		return err
	}
	return s.watchUntil(healthy, "v2 passed its analysis and is fully promoted")
}

// badRelease is chapter 3: a canary the analysis stops.
func (s *story) badRelease() error {
	say("")
	say("Chapter 3: releasing v3, whose canary fails 20%% of requests.")
	if err := s.setSuccessRate(0.80); err != nil {
		return err
	}
	if err := s.setImage("registry.example.com/guestbook:v3"); err != nil {
		return err
	}
	if err := s.watchUntil(pausedAt(1), "the v3 canary takes 20%"); err != nil {
		return err
	}
	say("Promoting past the pause; nobody is watching, but the analysis is.")
	if err := s.patchStatus(`{"status":{"pauseConditions":null}}`); err != nil {
		return err
	}
	if err := s.watchUntil(abortedOnStable, "the analysis failed and Serin aborted: all traffic back on v2, the v3 pods gone after 3s"); err != nil {
		return err
	}
	say("Why: %s", s.message())
	say("`kubectl argo rollouts retry rollout guestbook` would try v3 again; a manual `abort` does the same as this.")
	return nil
}

// watchUntil narrates every change of the guestbook Rollout, its
// ReplicaSets and Services until done holds.
func (s *story) watchUntil(done func(*v1alpha1.Rollout) bool, goal string) error {
	return s.poll(goal, func() (bool, error) {
		ro, err := s.rollouts.ArgoprojV1alpha1().Rollouts(s.ns).Get(s.ctx, "guestbook", metav1.GetOptions{})
		if err != nil || ro.Status.Phase == "" || ro.Status.ObservedGeneration != fmt.Sprint(ro.Generation) {
			return false, nil
		}
		if line := s.describe(ro); line != s.last {
			say("  %s", line)
			s.last = line
		}
		return done(ro), nil
	})
}

func (s *story) describe(ro *v1alpha1.Rollout) string {
	st := ro.Status
	phase := string(st.Phase)
	if msg := st.Message; msg != "" {
		// Long reasons are printed in full once the story reaches them.
		if i := strings.Index(msg, ": "); len(msg) > 60 && i > 0 {
			msg = msg[:i]
		}
		phase += " (" + msg + ")"
	}
	step := ""
	if st.CurrentStepIndex != nil {
		step = fmt.Sprintf(" step %d/%d", *st.CurrentStepIndex, len(ro.Spec.Strategy.Canary.Steps))
	}
	line := fmt.Sprintf("%s%s | traffic: %s | pods: %s | services: %s", phase, step, s.weights(), s.replicaSets(ro), s.services(ro))
	if a := ro.Status.Canary.CurrentStepAnalysisRunStatus; a != nil {
		line += " | analysis: " + s.analysis(a.Name)
	}
	return line
}

// analysis describes an AnalysisRun: its phase and the values measured.
func (s *story) analysis(name string) string {
	run, err := s.rollouts.ArgoprojV1alpha1().AnalysisRuns(s.ns).Get(s.ctx, name, metav1.GetOptions{})
	if err != nil {
		return "starting"
	}
	phase := string(run.Status.Phase)
	if phase == "" {
		phase = "Pending"
	}
	var values []string
	for _, r := range run.Status.MetricResults {
		for _, m := range r.Measurements {
			values = append(values, m.Value)
		}
	}
	if len(values) > 0 {
		phase += " " + strings.Join(values, " ")
	}
	return phase
}

// message is the Rollout's status message.
func (s *story) message() string {
	ro, err := s.rollouts.ArgoprojV1alpha1().Rollouts(s.ns).Get(s.ctx, "guestbook", metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	return ro.Status.Message
}

func (s *story) replicaSets(ro *v1alpha1.Rollout) string { return s.replicaSetsOf(ro) }

// replicaSetsOf describes the pods of each revision of a Rollout.
func (s *story) replicaSetsOf(ro *v1alpha1.Rollout) string {
	list, err := s.kube.AppsV1().ReplicaSets(s.ns).List(s.ctx, metav1.ListOptions{})
	if err != nil {
		return "?"
	}
	var parts []string
	for _, rs := range list.Items {
		if !metav1.IsControlledBy(&rs, ro) {
			continue
		}
		image := rs.Spec.Template.Spec.Containers[0].Image
		image = image[strings.LastIndex(image, ":")+1:]
		role := ""
		hash := rs.Labels[v1alpha1.LabelPodTemplateHash]
		switch {
		case ro.Spec.Strategy.BlueGreen != nil && hash == ro.Status.BlueGreen.ActiveSelector:
			role = " active"
		case ro.Spec.Strategy.BlueGreen != nil && hash == ro.Status.BlueGreen.PreviewSelector:
			role = " preview"
		case hash == ro.Status.StableRS:
			role = " stable"
		case hash == ro.Status.CurrentPodHash:
			role = " canary"
		}
		want := int32(0)
		if rs.Spec.Replicas != nil {
			want = *rs.Spec.Replicas
		}
		if want == 0 && rs.Status.Replicas == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s%s: %d wanted, %d ready", image, role, want, rs.Status.AvailableReplicas))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (s *story) services(ro *v1alpha1.Rollout) string {
	return s.servicesOf(ro, "guestbook-stable", "guestbook-canary")
}

// servicesOf tells which revision each Service selects.
func (s *story) servicesOf(ro *v1alpha1.Rollout, names ...string) string {
	var parts []string
	for _, name := range names {
		svc, err := s.kube.CoreV1().Services(s.ns).Get(s.ctx, name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		target := "all pods"
		if h, ok := svc.Spec.Selector[v1alpha1.LabelPodTemplateHash]; ok {
			target = h
			switch {
			case ro.Spec.Strategy.BlueGreen != nil:
				target = s.imageOf(ro, h)
			case h == ro.Status.StableRS:
				target = "stable"
			case h == ro.Status.CurrentPodHash:
				target = "canary"
			}
		}
		parts = append(parts, prefixOf(name)+"->"+target)
	}
	return strings.Join(parts, " ")
}

func (s *story) setImage(image string) error { return s.setImageOf("guestbook", image) }

func (s *story) setImageOf(name, image string) error {
	for i := 0; i < 10; i++ {
		ro, err := s.rollouts.ArgoprojV1alpha1().Rollouts(s.ns).Get(s.ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ro.Spec.Template.Spec.Containers[0].Image = image
		if _, err = s.rollouts.ArgoprojV1alpha1().Rollouts(s.ns).Update(s.ctx, ro, metav1.UpdateOptions{}); err == nil {
			return nil
		}
	}
	return fmt.Errorf("could not update the image")
}

func (s *story) patchStatus(patch string) error { return s.patchStatusOf("guestbook", patch) }

func (s *story) patchStatusOf(name, patch string) error {
	_, err := s.rollouts.ArgoprojV1alpha1().Rollouts(s.ns).Patch(s.ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	return err
}

// imageOf names a revision by its image tag.
func (s *story) imageOf(ro *v1alpha1.Rollout, hash string) string {
	list, err := s.kube.AppsV1().ReplicaSets(s.ns).List(s.ctx, metav1.ListOptions{})
	if err != nil {
		return hash
	}
	for _, rs := range list.Items {
		if metav1.IsControlledBy(&rs, ro) && rs.Labels[v1alpha1.LabelPodTemplateHash] == hash {
			image := rs.Spec.Template.Spec.Containers[0].Image
			return image[strings.LastIndex(image, ":")+1:]
		}
	}
	return hash
}

// poll calls check every 300ms until it reports done, for up to 3 minutes.
func (s *story) poll(goal string, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(s.ctx, 3*time.Minute)
	defer cancel()
	for {
		done, err := check()
		if err != nil {
			return err
		}
		if done {
			say("  -> %s.", goal)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting until %s: %w", goal, ctx.Err())
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func healthy(ro *v1alpha1.Rollout) bool { return ro.Status.Phase == v1alpha1.RolloutPhaseHealthy }

func pausedAt(step int32) func(*v1alpha1.Rollout) bool {
	return func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.RolloutPhasePaused && ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == step
	}
}

func abortedOnStable(ro *v1alpha1.Rollout) bool {
	return ro.Status.Abort && ro.Status.Phase == v1alpha1.RolloutPhaseDegraded &&
		ro.Status.AvailableReplicas == *ro.Spec.Replicas && ro.Status.UpdatedReplicas == 0
}

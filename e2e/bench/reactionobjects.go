package bench

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// ReactionNamespace holds the reaction scenario's canaries.
const ReactionNamespace = "bench-reaction"

var virtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "virtualservices"}

// reactionMetric is the exporter series each canary's analysis reads.
const reactionMetric = "bench_success_rate"

// Weights of the reaction canary's steps: after the first comes a timed
// pause of reactionPause, after the second an indefinite pause during
// which the background analysis (from step 2) runs.
const (
	reactionFirstWeight  = 20
	reactionSecondWeight = 40
	reactionPauseSeconds = 3
)

const reactionTemplateYAML = `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
  - name: name
  metrics:
  - name: success-rate
    interval: 5s
    failureLimit: 0
    successCondition: result[0] >= 0.99
    provider:
      prometheus:
        address: %s
        query: %s{rollout="{{args.name}}"}
`

const reactionRolloutYAML = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: %[2]s
  strategy:
    canary:
      stableService: %[1]s-stable
      canaryService: %[1]s-canary
      trafficRouting:
        istio:
          virtualService: {name: %[1]s, routes: [primary]}
      analysis:
        templates: [{templateName: success-rate}]
        startingStep: 2
        args: [{name: name, value: %[1]s}]
      steps:
      - setWeight: %[3]d
      - pause: {duration: %[5]ds}
      - setWeight: %[4]d
      - pause: {}
`

const reactionVirtualServiceYAML = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: %[1]s
spec:
  hosts: [%[1]s]
  http:
  - name: primary
    route:
    - destination: {host: %[1]s-stable}
      weight: 100
    - destination: {host: %[1]s-canary}
      weight: 0
`

// createReactionCanary creates one canary: its two Services, its
// VirtualService and the Rollout.
func (r *run) createReactionCanary(ctx context.Context, name string) error {
	for _, svc := range []string{name + "-stable", name + "-canary"} {
		s := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ReactionNamespace},
			Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": name},
				Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
			},
		}
		if _, err := r.kube.CoreV1().Services(ReactionNamespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Service %s: %w", svc, err)
		}
	}
	vs := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(fmt.Appendf(nil, reactionVirtualServiceYAML, name), &vs.Object); err != nil {
		return err
	}
	if _, err := r.cluster.Dynamic().Resource(virtualServices).Namespace(ReactionNamespace).Create(ctx, vs, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating VirtualService %s: %w", name, err)
	}
	var ro v1alpha1.Rollout
	doc := fmt.Sprintf(reactionRolloutYAML, name, imageV1, reactionFirstWeight, reactionSecondWeight, reactionPauseSeconds)
	if err := yaml.UnmarshalStrict([]byte(doc), &ro); err != nil {
		return fmt.Errorf("the reaction Rollout: %w", err)
	}
	_, err := r.argo.ArgoprojV1alpha1().Rollouts(ReactionNamespace).Create(ctx, &ro, metav1.CreateOptions{})
	return err
}

func (r *run) createReactionTemplate(ctx context.Context) error {
	var t v1alpha1.AnalysisTemplate
	doc := fmt.Sprintf(reactionTemplateYAML, r.cluster.PrometheusURL(), reactionMetric)
	if err := yaml.UnmarshalStrict([]byte(doc), &t); err != nil {
		return fmt.Errorf("the reaction AnalysisTemplate: %w", err)
	}
	_, err := r.argo.ArgoprojV1alpha1().AnalysisTemplates(ReactionNamespace).Create(ctx, &t, metav1.CreateOptions{})
	return err
}

// canaryWeight reads the weight of name's canary host in the primary route.
func canaryWeight(u *unstructured.Unstructured) (int64, bool) {
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	for _, route := range routes {
		m, ok := route.(map[string]any)
		if !ok || m["name"] != "primary" {
			continue
		}
		dests, _, _ := unstructured.NestedSlice(m, "route")
		for _, d := range dests {
			dm, ok := d.(map[string]any)
			if !ok {
				continue
			}
			host, _, _ := unstructured.NestedString(dm, "destination", "host")
			if host == u.GetName()+"-canary" {
				w, _, _ := unstructured.NestedInt64(dm, "weight")
				return w, true
			}
		}
	}
	return 0, false
}

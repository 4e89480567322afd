package alb

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

const albRollout = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: web:v1}]
  strategy:
    canary:
      stableService: web-stable
      canaryService: web-canary
      trafficRouting:
        managedRoutes: [{name: beta}]
        alb: {ingress: web, servicePort: 80, rootService: web-root}
      steps:
      - setWeight: 25
      - setHeaderRoute: {name: beta, match: [{headerName: X-Beta, headerValue: {exact: "yes"}}]}
      - pause: {}
      - setWeight: 50
      - pause: {}
`

const albIngress = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {alb.ingress.kubernetes.io/scheme: internet-facing}
spec:
  ingressClassName: alb
  rules:
  - http:
      paths:
      - path: /*
        pathType: ImplementationSpecific
        backend: {service: {name: web-root, port: {name: use-annotation}}}
`

const (
	rootAction = "alb.ingress.kubernetes.io/actions.web-root"
	managedKey = "rollouts.argoproj.io/managed-alb-annotations"
)

// albSetup makes the Services and the Ingress, and starts the stand-in
// AWS controller for it.
func albSetup(t *testing.T, services ...string) (*framework.T, *awsController) {
	f := framework.New(t)
	for _, s := range services {
		f.Service(s, "web")
	}
	f.Create(ingresses, albIngress)
	return f, startAWSController(f, "web", rootAction)
}

func ingressAnnotation(f *framework.T, key string) string {
	f.Helper()
	u, err := f.Env.Cluster.Dynamic().Resource(ingresses).Namespace(f.Namespace).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		f.Fatal(err)
	}
	return u.GetAnnotations()[key]
}

func expectAnnotation(f *framework.T, key, want string) {
	f.Helper()
	if got := ingressAnnotation(f, key); got != want {
		f.Fatalf("annotation %s\n got %s\nwant %s", key, got, want)
	}
}

// TestCanaryWeightsHeaderRouteAndAbort takes a canary through its weights
// and a header route, checking Argo Rollouts' exact annotation strings,
// then aborts: the first write after the abort puts all traffic on stable.
func TestCanaryWeightsHeaderRouteAndAbort(t *testing.T) {
	f, _ := albSetup(t, "web-root", "web-stable", "web-canary")
	r := f.Rollout(albRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(ingresses, "web", "all traffic on stable", func(u *unstructured.Unstructured) bool {
		return u.GetAnnotations()[rootAction] == `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80","Weight":0},{"ServiceName":"web-stable","ServicePort":"80","Weight":100}]}}`
	})
	r.SetImage("web:v2")
	r.WaitForPausedAtStep(2)
	expectAnnotation(f, rootAction, `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80","Weight":25},{"ServiceName":"web-stable","ServicePort":"80","Weight":75}]}}`)
	expectAnnotation(f, "alb.ingress.kubernetes.io/actions.beta", `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80","Weight":100}]}}`)
	expectAnnotation(f, "alb.ingress.kubernetes.io/conditions.beta", `[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X-Beta","values":["yes"]}}]`)
	expectAnnotation(f, managedKey, `{"web":["alb.ingress.kubernetes.io/actions.web-root","alb.ingress.kubernetes.io/actions.beta","alb.ingress.kubernetes.io/conditions.beta"]}`)
	expectAnnotation(f, "alb.ingress.kubernetes.io/scheme", "internet-facing")
	if ro := r.Get(); ro.Status.ALB == nil || ro.Status.ALB.LoadBalancer.Name != f.Namespace+"-web" || ro.Status.ALB.CanaryTargetGroup.Name == "" || len(ro.Status.ALBs) != 1 {
		t.Fatalf("status.alb %+v, status.albs %+v: want the load balancer and target groups found on ELBv2", ro.Status.ALB, ro.Status.ALBs)
	}
	r.Promote()
	r.WaitForPausedAtStep(4)
	expectAnnotation(f, rootAction, `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80","Weight":50},{"ServiceName":"web-stable","ServicePort":"80","Weight":50}]}}`)
	expectAbortTakesTrafficInOneWrite(f, r)
	expectOnlyFakeKey(f)
}

// expectAbortTakesTrafficInOneWrite aborts and watches the Ingress: its
// first change after the abort carries weight 0 and no header route.
func expectAbortTakesTrafficInOneWrite(f *framework.T, r *framework.R) {
	f.Helper()
	client := f.Env.Cluster.Dynamic().Resource(ingresses).Namespace(f.Namespace)
	cur, err := client.Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		f.Fatal(err)
	}
	w, err := client.Watch(context.Background(), metav1.ListOptions{FieldSelector: "metadata.name=web", ResourceVersion: cur.GetResourceVersion()})
	if err != nil {
		f.Fatal(err)
	}
	defer w.Stop()
	r.Abort()
	select {
	case ev := <-w.ResultChan():
		u, ok := ev.Object.(*unstructured.Unstructured)
		if ev.Type != watch.Modified || !ok {
			f.Fatalf("unexpected watch event %v", ev.Type)
		}
		if got := weights(u, rootAction); got["web-canary"] != 0 || got["web-stable"] != 100 {
			f.Fatalf("the first write after the abort set weights %v, want all on stable", got)
		}
		if _, ok := u.GetAnnotations()["alb.ingress.kubernetes.io/conditions.beta"]; ok {
			f.Fatal("the header route outlived the abort's first write")
		}
	case <-time.After(framework.DefaultTimeout):
		f.Fatal("the Ingress was not written after the abort")
	}
	r.WaitForPhase(v1alpha1.RolloutPhaseDegraded)
}

const verifyRollout = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: web:v1}]
  strategy:
    canary:
      stableService: web-stable
      canaryService: web-canary
      trafficRouting:
        alb: {ingress: web, servicePort: 80, rootService: web-root}
      steps:
      - setWeight: 30
      - pause: {}
`

func stepIs(i int32) func(*v1alpha1.Rollout) bool {
	return func(ro *v1alpha1.Rollout) bool {
		return ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == i
	}
}

// TestSetWeightWaitsForTheLoadBalancer holds the load balancer at the old
// weight: the step waits, not verified, until ELBv2 reports the new one.
func TestSetWeightWaitsForTheLoadBalancer(t *testing.T) {
	f, aws := albSetup(t, "web-root", "web-stable", "web-canary")
	r := f.Rollout(verifyRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	aws.Hold()
	r.SetImage("web:v2")
	f.WaitForObject(ingresses, "web", "weight 30 on the canary", func(u *unstructured.Unstructured) bool {
		return weights(u, rootAction)["web-canary"] == 30
	})
	r.WaitFor("weights not yet verified", func(ro *v1alpha1.Rollout) bool {
		w := ro.Status.Canary.Weights
		return w != nil && w.Verified != nil && !*w.Verified
	})
	r.Consistently("the setWeight step waits", 4*time.Second, stepIs(0))
	if n := r.Events("TargetGroupUnverified"); n == 0 {
		t.Fatal("no TargetGroupUnverified event")
	}
	aws.Release()
	r.WaitForPausedAtStep(1)
	if n := r.Events("TargetGroupVerified"); n == 0 {
		t.Fatal("no TargetGroupVerified event")
	}
}

// TestAWSErrorIsAnEventAndTheRolloutWaits makes every ELBv2 call fail.
func TestAWSErrorIsAnEventAndTheRolloutWaits(t *testing.T) {
	f, _ := albSetup(t, "web-root", "web-stable", "web-canary")
	r := f.Rollout(verifyRollout)
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	elb.Fail("AccessDenied")
	defer elb.Fail("")
	r.SetImage("web:v2")
	r.WaitFor("a WeightVerifyError event", func(*v1alpha1.Rollout) bool { return r.Events("WeightVerifyError") > 0 })
	r.Consistently("the setWeight step waits", 3*time.Second, stepIs(0))
	elb.Fail("")
	r.WaitForPausedAtStep(1)
}

package tolerant

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func object(t *testing.T, manifest string) map[string]any {
	t.Helper()
	return objectB(t, manifest)
}

func objectB(t testing.TB, manifest string) map[string]any {
	t.Helper()
	var u map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func paths(dropped []Dropped) []string {
	var out []string
	for _, d := range dropped {
		out = append(out, d.Path)
	}
	return out
}

// A pod template whose memory request is not a quantity, next to fields that
// sort after it (which Argo Rollouts' own fallback loses) and another container.
const malformedRollout = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: bad, namespace: apps, uid: u1, resourceVersion: "5"}
spec:
  replicas: 2
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers:
      - name: app
        image: app:v1
        resources: {requests: {memory: invalid, cpu: 100m}}
        volumeMounts: [{name: data, mountPath: /data}]
      - name: sidecar
        image: proxy:v1
      volumes: [{name: data, emptyDir: {}}]
  strategy:
    canary:
      steps: [{setWeight: 20}, {pause: {}}]
status:
  stableRS: abc
`

func TestAMalformedQuantityIsLeftOutAndEverythingElseKept(t *testing.T) {
	ro, dropped, err := Convert[v1alpha1.Rollout](object(t, malformedRollout))
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(dropped); len(got) != 1 || got[0] != "spec.template.spec.containers[0].resources.requests.memory" {
		t.Fatalf("dropped %v, want only the memory request", got)
	}
	if !strings.Contains(dropped[0].Reason, "quantities must match") {
		t.Errorf("reason %q does not say what was wrong", dropped[0].Reason)
	}
	c := ro.Spec.Template.Spec.Containers
	if len(c) != 2 || c[0].Image != "app:v1" || c[1].Name != "sidecar" {
		t.Fatalf("containers %+v", c)
	}
	if _, ok := c[0].Resources.Requests["memory"]; ok || c[0].Resources.Requests.Cpu().String() != "100m" {
		t.Errorf("requests %v, want only cpu 100m", c[0].Resources.Requests)
	}
	if len(c[0].VolumeMounts) != 1 || len(ro.Spec.Template.Spec.Volumes) != 1 {
		t.Error("fields after the malformed one were lost")
	}
	if ro.Spec.Strategy.Canary == nil || len(ro.Spec.Strategy.Canary.Steps) != 2 || ro.Status.StableRS != "abc" || ro.ResourceVersion != "5" {
		t.Errorf("strategy, status or metadata lost: %+v %+v", ro.Spec.Strategy, ro.Status)
	}
}

func TestAWellFormedObjectDropsNothing(t *testing.T) {
	good := strings.Replace(malformedRollout, "memory: invalid", "memory: 64Mi", 1)
	ro, dropped, err := Convert[v1alpha1.Rollout](object(t, good))
	if err != nil || len(dropped) != 0 {
		t.Fatalf("dropped %v, err %v", dropped, err)
	}
	if ro.Spec.Template.Spec.Containers[0].Resources.Requests.Memory().String() != "64Mi" {
		t.Fatal("memory request not decoded")
	}
}

func TestValuesOfTheWrongShapeAreLeftOut(t *testing.T) {
	manifest := `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: bad, namespace: apps}
spec:
  replicas: three
  minReadySeconds: 5
  template:
    spec:
      containers: [{name: a, image: a:v1}, "not a container", {name: c, image: c:v1, ports: {containerPort: 80}}]
  strategy:
    canary:
      steps: {setWeight: 20}
      maxSurge: 1
`
	ro, dropped, err := Convert[v1alpha1.Rollout](object(t, manifest))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"spec.replicas",
		"spec.strategy.canary.steps",
		"spec.template.spec.containers[1]",
		"spec.template.spec.containers[2].ports",
	}
	got := paths(dropped)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("dropped %v, want %v", got, want)
	}
	if ro.Spec.Replicas != nil || ro.Spec.MinReadySeconds != 5 || ro.Spec.Strategy.Canary.MaxSurge.IntValue() != 1 {
		t.Errorf("spec %+v", ro.Spec)
	}
	if c := ro.Spec.Template.Spec.Containers; len(c) != 2 || c[0].Name != "a" || c[1].Name != "c" {
		t.Errorf("containers %+v, want a and c", c)
	}
}

func TestAnalysisKindsAreDecodedTolerantlyToo(t *testing.T) {
	manifest := `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: t, namespace: apps}
spec:
  metrics:
  - name: job
    provider:
      job:
        spec:
          template:
            spec:
              containers: [{name: j, image: j:v1, resources: {limits: {cpu: lots}}}]
  - name: web
    successCondition: result == 1
    provider: {web: {url: "http://example"}}
`
	tpl, dropped, err := Convert[v1alpha1.AnalysisTemplate](object(t, manifest))
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(dropped); len(got) != 1 || got[0] != "spec.metrics[0].provider.job.spec.template.spec.containers[0].resources.limits.cpu" {
		t.Fatalf("dropped %v", got)
	}
	if len(tpl.Spec.Metrics) != 2 || tpl.Spec.Metrics[1].Provider.Web == nil {
		t.Fatalf("metrics %+v", tpl.Spec.Metrics)
	}
}

func TestAHostileObjectIsDecodedInBoundedWork(t *testing.T) {
	// Thousands of malformed quantities: at most MaxDropped are named one by
	// one, then whole failing parts go; decoding still ends, with the rest kept.
	var b strings.Builder
	b.WriteString("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: h}\nspec:\n  minReadySeconds: 7\n  template:\n    spec:\n      containers:\n")
	for i := 0; i < 2000; i++ {
		b.WriteString("      - {name: c, resources: {requests: {memory: bad, cpu: bad}}}\n")
	}
	ro, dropped, err := Convert[v1alpha1.Rollout](object(t, b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped) > MaxDropped+4 {
		t.Fatalf("%d fields named, want about %d at most", len(dropped), MaxDropped)
	}
	if ro.Spec.MinReadySeconds != 7 {
		t.Fatal("the well-formed rest of the object was lost")
	}
}

func TestMessageNamesTheFirstFieldsAndCountsTheRest(t *testing.T) {
	var dropped []Dropped
	for _, p := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		dropped = append(dropped, Dropped{Path: "spec." + p, Reason: strings.Repeat("x", 500)})
	}
	msg := Message(dropped)
	if !strings.Contains(msg, "spec.a: ") || !strings.Contains(msg, "spec.e: ") || strings.Contains(msg, "spec.f") || !strings.HasSuffix(msg, "and 2 more") {
		t.Fatalf("message %q", msg)
	}
	if len(msg) > 1024 {
		t.Fatalf("message of %d bytes; events must stay short", len(msg))
	}
}

package routers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/internal/testpaths"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Argo Rollouts' own examples for these routers, applied from
// ../shared/conformance (never copied into this repository).

// applyExample applies the example's files into the test's namespace. The
// App Mesh example names its own namespace (argo-examples) and makes it:
// that Namespace object is left out and every object goes to the test's.
func applyExample(f *framework.T, dir string, files ...string) {
	f.Helper()
	base := testpaths.Shared(f.T, "conformance", "upstream-examples", dir)
	var docs []string
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(base, name))
		if err != nil {
			f.Fatal(err)
		}
		for _, doc := range strings.Split(string(data), "\n---") {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
				f.Fatalf("%s: %v", name, err)
			}
			if len(u.Object) == 0 || u.GetKind() == "Namespace" {
				continue
			}
			if u.GetNamespace() != "" {
				u.SetNamespace(f.Namespace)
			}
			out, err := yaml.Marshal(u.Object)
			if err != nil {
				f.Fatal(err)
			}
			docs = append(docs, string(out))
		}
	}
	path := filepath.Join(f.TempDir(), "example.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		f.Fatal(err)
	}
	if out, err := f.Env.Cluster.Kubectl(context.Background(), "apply", "-n", f.Namespace, "-f", path); err != nil {
		f.Fatalf("kubectl apply %s: %v\n%s", dir, err, out)
	}
}

func TestUpstreamExampleAmbassador(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	applyExample(f, "ambassador", "resolver.yaml", "echo-service.yaml", "echo-mapping.yaml", "rollout.yaml")
	r := f.RolloutNamed("echo-rollout")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("hashicorp/http-echo:1.0")
	r.WaitForPausedAtStep(1)
	f.WaitForObject(mappings, "echo-canary", "at 30%", mappingIs("echo-canary:80", 30))
	// Timed pauses of 30s, 30s and 10s, then the canary Mapping goes.
	r.WaitForPausedAtStep(3)
	f.WaitForObject(mappings, "echo-canary", "at 60%", mappingIs("echo-canary:80", 60))
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	waitGone(f, mappings, "echo-canary")
}

func TestUpstreamExampleAPISIX(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	applyExample(f, "apisix", "services.yaml", "route.yaml", "rollout.yaml")
	r := f.RolloutNamed("rollout-apisix-canary")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	r.SetImage("argoproj/rollouts-demo:yellow")
	// The first step sets the canary scale and the header route together.
	r.WaitForPausedAtStep(1)
	f.WaitForObject(apisixRoutes, "set-header", "the header route", func(u *unstructured.Unstructured) bool {
		rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
		return len(rules) == 1 && len(backendWeights(rules[0].(map[string]any)["backends"].([]any), "serviceName")) == 1
	})
	r.Promote()
	r.WaitForPausedAtStep(3)
	f.WaitForObject(apisixRoutes, "rollouts-apisix-route", "at 20%", func(u *unstructured.Unstructured) bool {
		w := apisixWeights(u)
		return w["rollout-apisix-canary-stable"] == 80 && w["rollout-apisix-canary-canary"] == 20
	})
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	waitGone(f, apisixRoutes, "set-header")
}

func TestUpstreamExampleAppMesh(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	applyExample(f, "appmesh", "canary-service.yaml", "canary-rollout.yaml")
	r := f.RolloutNamed("my-rollout")
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(virtualNodes, "my-vn-stable", "on the stable hash", selects(r.Get().Status.StableRS))
	r.SetImage("argoproj/rollouts-demo:yellow")
	r.WaitForPausedAtStep(1)
	f.WaitForObject(virtualRouters, "my-vrouter", "at 25%", func(u *unstructured.Unstructured) bool {
		w := meshWeights(u)
		return w["my-vn-stable"] == 75 && w["my-vn-canary"] == 25
	})
	f.WaitForObject(virtualNodes, "my-vn-canary", "on the canary hash", selects(r.Get().Status.CurrentPodHash))
	r.PromoteFull()
	r.WaitForPhase(v1alpha1.RolloutPhaseHealthy)
	f.WaitForObject(virtualRouters, "my-vrouter", "all on the new stable", func(u *unstructured.Unstructured) bool {
		w := meshWeights(u)
		return w["my-vn-stable"] == 100 && w["my-vn-canary"] == 0
	})
}

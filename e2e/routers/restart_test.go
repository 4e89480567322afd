package routers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/e2e/framework"
)

// TestRestartMidCanaryWritesNothing brings a canary of each router to its
// first weight, kills the controller and starts another: the successor
// writes neither the Rollouts nor any routing object. (Not parallel: the
// restart would disturb other tests.)
func TestRestartMidCanaryWritesNothing(t *testing.T) {
	type watched struct {
		f       *framework.T
		r       *framework.R
		objects map[string]schema.GroupVersionResource
	}
	var all []watched
	for _, c := range []struct {
		name    string
		start   func(*framework.T) *framework.R
		objects map[string]schema.GroupVersionResource
	}{
		{"traefik", startTraefik, map[string]schema.GroupVersionResource{"demo-weighted": traefikServices}},
		{"ambassador", startAmbassador, map[string]schema.GroupVersionResource{"demo": mappings, "demo-canary": mappings, "demo-grpc-canary": mappings}},
		{"apisix", startAPISIX, map[string]schema.GroupVersionResource{"demo-route": apisixRoutes, "demo-header": apisixRoutes}},
		{"appmesh", startAppMesh, map[string]schema.GroupVersionResource{"demo-router": virtualRouters, "demo-canary": virtualNodes, "demo-stable": virtualNodes}},
	} {
		t.Logf("bringing the %s canary to its first weight", c.name)
		f := framework.New(t)
		all = append(all, watched{f, c.start(f), c.objects})
	}
	time.Sleep(time.Second) // let the last writes settle
	versions := func() map[string]string {
		out := map[string]string{}
		for _, w := range all {
			out[w.f.Namespace+"/rollout"] = w.r.Get().ResourceVersion
			for name, gvr := range w.objects {
				if u := get(w.f, gvr, name); u != nil {
					out[w.f.Namespace+"/"+gvr.Resource+"/"+name] = u.GetResourceVersion()
				}
			}
		}
		return out
	}
	before := versions()
	all[0].f.Env.KillController()
	if err := all[0].f.Env.StartController(); err != nil {
		t.Fatal(err)
	}
	// The successor waits out the dead leader's lease (4s), then resyncs
	// every Rollout.
	time.Sleep(10 * time.Second)
	after := versions()
	for key, v := range before {
		if after[key] != v {
			t.Errorf("%s was written after the restart (resourceVersion %s -> %s)", key, v, after[key])
		}
	}
	if len(after) != len(before) {
		t.Errorf("objects before %v, after %v", before, after)
	}
}

package fault

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var virtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "virtualservices"}

// withoutPackageController stops the package's controller for the rest of
// the test, which starts its own, and starts it again afterwards.
func withoutPackageController(f *framework.T) {
	f.Env.StopController()
	f.Cleanup(func() {
		f.ForgetLeader() // the test's last controller may have been killed
		if err := f.Env.StartController(); err != nil {
			f.Errorf("restarting the package's controller: %v", err)
		}
	})
}

// settled tells whether the rollout is over: Healthy on its current
// revision, every pod of that revision available, every other ReplicaSet
// scaled to zero, and the Rollout's status saying so (its counts and its
// Healthy condition).
func settled(r *framework.R, replicas int32) bool {
	ro := r.Get()
	s := ro.Status
	if s.ObservedGeneration != fmt.Sprint(ro.Generation) || s.Phase != v1alpha1.RolloutPhaseHealthy ||
		s.StableRS == "" || s.StableRS != s.CurrentPodHash || !healthyCondition(ro) ||
		s.Replicas != replicas || s.UpdatedReplicas != replicas || s.ReadyReplicas != replicas || s.AvailableReplicas != replicas {
		return false
	}
	for _, rs := range r.ReplicaSets() {
		want := int32(0)
		if rs.Labels[v1alpha1.LabelPodTemplateHash] == ro.Status.StableRS {
			want = replicas
		}
		if *rs.Spec.Replicas != want || rs.Status.Replicas != want || rs.Status.AvailableReplicas != want {
			return false
		}
	}
	return true
}

// healthyCondition tells whether the Rollout's Healthy condition is True.
func healthyCondition(ro *v1alpha1.Rollout) bool {
	for _, c := range ro.Status.Conditions {
		if c.Type == v1alpha1.RolloutHealthy {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// perController bounds the time one controller may take to make a write
// or see the rollout over: a lease takeover, a cache sync, a 1s pause or
// analysis interval, and a slow machine.
const perController = 60 * time.Second

// killAfterEveryWrite drives a rollout to its end with controllers that are
// each SIGKILLed right after their first object write, at most maxKills of
// them, then finishes it with one left alone (finishQuietly). It returns
// the writes each killed controller made: the first, after which it died,
// and any other that was already on its way. After each kill the dead
// controller's Lease is deleted, which is what its expiry would do 4s later.
func killAfterEveryWrite(f *framework.T, done func() bool, maxKills int) []string {
	f.Helper()
	var kills []string
	quits := 0
	for len(kills) < maxKills && !done() {
		began := time.Now()
		c := f.StartProxiedController(fmt.Sprintf("kill-%d", len(kills)), 1)
		if !exitedOrDone(f, c, done) {
			c.Stop()
			break
		}
		f.ForgetLeader()
		select {
		case <-c.Proxy.Tripped():
			kills = append(kills, fmt.Sprintf("%s (%.1fs)", writeList(c.Proxy.ObjectWrites(f.Namespace)), time.Since(began).Seconds()))
			continue
		default:
		}
		// On a loaded machine a renewal can miss the 3s renew deadline,
		// and the controller exits having lost its Lease; more than a
		// few such exits is a crash loop.
		if quits++; quits > maxQuits {
			f.Fatalf("controller %s exited on its own (code %d) before writing, %d times in all; its writes %v", c.Name, c.ExitCode(), quits, c.Proxy.Writes())
		}
		f.Logf("controller %s exited on its own (code %d) before writing; its writes %v", c.Name, c.ExitCode(), c.Proxy.Writes())
	}
	finishQuietly(f, done)
	return kills
}

// maxQuits is how many controllers of a scenario may exit on their own.
const maxQuits = 3

// writeList renders writes on one line.
func writeList(writes []framework.Write) string {
	parts := make([]string, len(writes))
	for i, w := range writes {
		parts[i] = w.String()
	}
	return strings.Join(parts, " + ")
}

// withBodies renders writes one a line, each with its request body.
func withBodies(writes []framework.Write) string {
	var b strings.Builder
	for _, w := range writes {
		fmt.Fprintf(&b, "\n  %s %s", w, w.Body)
	}
	return b.String()
}

// exitedOrDone waits until the controller has exited (true) or the
// rollout is over while it runs (false).
func exitedOrDone(f *framework.T, c *framework.Controller, done func() bool) bool {
	f.Helper()
	deadline := time.After(perController)
	for {
		select {
		case <-c.Exited():
			return true
		case <-deadline:
			f.Fatalf("controller %s neither wrote nor finished the rollout in %s; writes %v", c.Name, perController, c.Proxy.Writes())
		case <-time.After(200 * time.Millisecond):
			if done() {
				return false
			}
		}
	}
}

// finishQuietly starts a controller that is left alone, waits for the
// rollout to be over, and checks that the controller then writes nothing
// more: nothing was left half done.
func finishQuietly(f *framework.T, done func() bool) {
	f.Helper()
	c := f.StartProxiedController("final", 0)
	deadline := time.Now().Add(framework.DefaultTimeout)
	for !done() || !c.Proxy.Leading() {
		if time.Now().After(deadline) {
			f.Fatalf("the rollout did not finish under the last controller; its writes %v", c.Proxy.Writes())
		}
		time.Sleep(200 * time.Millisecond)
	}
	before := len(c.Proxy.ObjectWrites(f.Namespace))
	time.Sleep(4 * time.Second)
	if extra := c.Proxy.ObjectWrites(f.Namespace)[before:]; len(extra) > 0 {
		f.Errorf("the controller kept writing after the rollout was over:%s", withBodies(extra))
	}
}

// weightTrail is every (stable, canary) weight pair a VirtualService's
// primary route took, in order, from a watch that misses no update.
type weightTrail struct {
	mu    sync.Mutex
	pairs []string
}

// watchWeights starts recording a VirtualService's weights.
func watchWeights(f *framework.T, name string) *weightTrail {
	f.Helper()
	client := f.Env.Cluster.Dynamic().Resource(virtualServices).Namespace(f.Namespace)
	u, err := client.Get(f.Context(), name, metav1.GetOptions{})
	if err != nil {
		f.Fatal(err)
	}
	trail := &weightTrail{}
	trail.add(u)
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	lw := &cache.ListWatch{WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		o.FieldSelector = "metadata.name=" + name
		return client.Watch(ctx, o)
	}}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, u.GetResourceVersion(), lw)
	if err != nil {
		f.Fatal(err)
	}
	go func() {
		for ev := range w.ResultChan() {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok {
				trail.add(u)
			}
		}
	}()
	return trail
}

func (t *weightTrail) add(u *unstructured.Unstructured) {
	pair := weightPair(u)
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := len(t.pairs); n == 0 || t.pairs[n-1] != pair {
		t.pairs = append(t.pairs, pair)
	}
}

// Pairs is the trail so far.
func (t *weightTrail) Pairs() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.pairs)
}

// weightPair renders the primary route's weights as "stable/canary".
func weightPair(u *unstructured.Unstructured) string {
	weights := map[string]int64{}
	routes, _, _ := unstructured.NestedSlice(u.Object, "spec", "http")
	for _, r := range routes {
		m, _ := r.(map[string]any)
		if m["name"] != "primary" {
			continue
		}
		dests, _, _ := unstructured.NestedSlice(m, "route")
		for _, d := range dests {
			dm, _ := d.(map[string]any)
			host, _, _ := unstructured.NestedString(dm, "destination", "host")
			weights[host], _, _ = unstructured.NestedInt64(dm, "weight")
		}
	}
	return fmt.Sprintf("%d/%d", weights["demo-stable"], weights["demo-canary"])
}

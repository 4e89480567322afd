package rollout

import (
	"context"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/podhash"
)

// apiRollout is the Rollout as the API server holds it.
func apiRollout(t *testing.T, f *fixture) *v1alpha1.Rollout {
	t.Helper()
	ro, err := f.rollouts.ArgoprojV1alpha1().Rollouts("default").Get(context.Background(), "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ro
}

// apiReplicaSets are the ReplicaSets the API server holds.
func apiReplicaSets(t *testing.T, f *fixture) []appsv1.ReplicaSet {
	t.Helper()
	list, err := f.kube.AppsV1().ReplicaSets("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// catchUp lets the caches catch up with the API, as informers would, with
// every ReplicaSet's pods available.
func catchUp(t *testing.T, f *fixture) {
	t.Helper()
	if err := f.roIndex.Update(apiRollout(t, f)); err != nil {
		t.Fatal(err)
	}
	catchUpReplicaSets(t, f)
}

// catchUpReplicaSets fills the ReplicaSet cache from the API, every pod up.
func catchUpReplicaSets(t *testing.T, f *fixture) {
	t.Helper()
	for _, rs := range apiReplicaSets(t, f) {
		var n int32
		if rs.Spec.Replicas != nil {
			n = *rs.Spec.Replicas
		}
		rs.Status = appsv1.ReplicaSetStatus{Replicas: n, ReadyReplicas: n, AvailableReplicas: n}
		if err := f.rsIndex.Update(rs.DeepCopy()); err != nil {
			t.Fatal(err)
		}
	}
}

// firstReplicaSet is the ReplicaSet a first reconcile of ro creates.
func firstReplicaSet(t *testing.T, ro *v1alpha1.Rollout) *appsv1.ReplicaSet {
	t.Helper()
	f := newFixture(t, ro.DeepCopy())
	f.reconcile("demo")
	rss := apiReplicaSets(t, f)
	if len(rss) != 1 {
		t.Fatalf("a first reconcile created %d ReplicaSets, want 1", len(rss))
	}
	return &rss[0]
}

func countCreates(actions []k8stesting.Action, resource string) int {
	n := 0
	for _, a := range actions {
		if a.GetVerb() == "create" && a.GetResource().Resource == resource {
			n++
		}
	}
	return n
}

func TestAReplicaSetNameTakenByAnotherOwnerRaisesTheCollisionCountByOneAndFails(t *testing.T) {
	for name, before := range map[string]*int32{"no collision yet": nil, "two collisions already": ptr32(2)} {
		t.Run(name, func(t *testing.T) {
			ro := demoRollout()
			ro.Status.CollisionCount = before
			planned := firstReplicaSet(t, ro)
			foreign := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
				Name: planned.Name, Namespace: "default", ResourceVersion: "5",
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(
					&v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "other", UID: "uid-other"}},
					v1alpha1.SchemeGroupVersion.WithKind(v1alpha1.RolloutKind))},
			}, Spec: appsv1.ReplicaSetSpec{Replicas: ptr32(1)}}
			f := newFixture(t, ro, foreign)

			_, err := f.r.Reconcile(context.Background(), demoKey)
			want := int32(1)
			if before != nil {
				want = *before + 1
			}
			if err == nil || !strings.Contains(err.Error(), "ReplicaSet "+planned.Name+" exists and is not this Rollout's; collision count raised to") {
				t.Fatalf("Reconcile = %v, want the collision reported", err)
			}
			if got := apiRollout(t, f).Status.CollisionCount; got == nil || *got != want {
				t.Fatalf("status.collisionCount = %v, want %d", got, want)
			}
			rss := apiReplicaSets(t, f)
			if len(rss) != 1 || !reflect.DeepEqual(rss[0].OwnerReferences, foreign.OwnerReferences) {
				t.Fatalf("ReplicaSets %+v, want only the other owner's, untouched", rss)
			}

			// The raised count changes the hash: the next reconcile creates
			// the ReplicaSet under another name.
			catchUp(t, f)
			f.reconcile("demo")
			rss = apiReplicaSets(t, f)
			if len(rss) != 2 {
				t.Fatalf("%d ReplicaSets after the next reconcile, want 2", len(rss))
			}
			for _, rs := range rss {
				if rs.Name != planned.Name && !metav1.IsControlledBy(&rs, apiRollout(t, f)) {
					t.Errorf("ReplicaSet %s under the new name is not controlled by the Rollout", rs.Name)
				}
			}
		})
	}
}

func ptr32(n int32) *int32 { return &n }

func TestOurOwnReplicaSetFoundOnCreateIsAdoptedWithoutACollision(t *testing.T) {
	// An earlier reconcile created the ReplicaSet; this reconcile's plan was
	// made before the ReplicaSet informer delivered it, and the informer
	// delivers it while the create is on its way.
	ours := firstReplicaSet(t, demoRollout())
	f := newFixture(t, demoRollout())
	if err := f.kube.Tracker().Add(ours.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	f.kube.PrependReactor("create", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) {
		if err := f.rsIndex.Add(ours.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		return false, nil, nil // the tracker answers AlreadyExists
	})

	if _, err := f.r.Reconcile(context.Background(), demoKey); err != nil {
		t.Fatalf("Reconcile = %v, want our own ReplicaSet adopted", err)
	}
	if n := countCreates(f.kube.Actions(), "replicasets"); n != 1 {
		t.Fatalf("%d ReplicaSet creates, want the one that found it", n)
	}
	if got := apiRollout(t, f).Status.CollisionCount; got != nil {
		t.Fatalf("status.collisionCount = %d, want none", *got)
	}
	if rss := apiReplicaSets(t, f); len(rss) != 1 || !reflect.DeepEqual(rss[0], *ours) {
		t.Fatalf("ReplicaSets %+v, want only ours, untouched", rss)
	}

	// Once the caches show it, the Rollout goes on with that ReplicaSet.
	catchUp(t, f)
	f.reconcile("demo")
	if n := countCreates(f.kube.Actions(), "replicasets"); n != 1 {
		t.Errorf("%d ReplicaSet creates in all, want no second one", n)
	}
	if got := apiRollout(t, f).Status.CurrentPodHash; got != ours.Labels[v1alpha1.LabelPodTemplateHash] {
		t.Errorf("status.currentPodHash = %q, want our ReplicaSet's %q", got, ours.Labels[v1alpha1.LabelPodTemplateHash])
	}
}

func TestOurOwnReplicaSetNotCachedYetIsWaitedForNotCountedAsACollision(t *testing.T) {
	// An earlier reconcile created the ReplicaSet; the Rollout cache caught
	// up, the ReplicaSet cache has not. The create finds it taken, and the
	// cache cannot tell whose it is yet.
	ours := firstReplicaSet(t, demoRollout())
	f := newFixture(t, demoRollout())
	if err := f.kube.Tracker().Add(ours.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Reconcile(context.Background(), demoKey); err == nil {
		t.Fatal("Reconcile = nil, want an error so the key is retried once the cache has the ReplicaSet")
	}
	if got := apiRollout(t, f).Status.CollisionCount; got != nil {
		t.Fatalf("status.collisionCount = %d: the Rollout's own ReplicaSet was counted as a collision", *got)
	}
	if rss := apiReplicaSets(t, f); len(rss) != 1 {
		t.Fatalf("%d ReplicaSets, want only ours", len(rss))
	}

	// Once the cache shows it, the Rollout goes on with that ReplicaSet.
	catchUp(t, f)
	f.reconcile("demo")
	if rss := apiReplicaSets(t, f); len(rss) != 1 {
		t.Fatalf("%d ReplicaSets after the cache caught up, want only ours", len(rss))
	}
	if got := apiRollout(t, f).Status.CurrentPodHash; got != ours.Labels[v1alpha1.LabelPodTemplateHash] {
		t.Errorf("status.currentPodHash = %q, want our ReplicaSet's %q", got, ours.Labels[v1alpha1.LabelPodTemplateHash])
	}
}

// analysisFixture is a fixture whose Rollout starts a step analysis once
// its template changes, with the informer caches of runs and templates.
type analysisFixture struct {
	*fixture
	runIndex cache.Indexer
}

func newAnalysisFixture(t *testing.T) *analysisFixture {
	ro := demoRollout()
	ro.Spec.Strategy.Canary.Steps = []v1alpha1.CanaryStep{
		{Analysis: &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "smoke"}}}},
		{Pause: &v1alpha1.RolloutPause{}},
	}
	f := &analysisFixture{fixture: newFixture(t, ro), runIndex: cache.NewIndexer(cache.MetaNamespaceKeyFunc,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, controller.OwnerIndex: controller.OwnerIndexFunc})}
	tplIndex := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	err := tplIndex.Add(&v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: "default"},
		Spec:       v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{{Name: "smoke", Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := f.r.o
	o.AnalysisRunLister = rolloutlisters.NewAnalysisRunLister(f.runIndex)
	o.OwnedAnalysisRuns = f.runIndex
	o.AnalysisTemplateLister = rolloutlisters.NewAnalysisTemplateLister(tplIndex)
	f.r = NewReconciler(o)
	return f
}

// toStepAnalysis converges the Rollout and changes its image; the next
// reconcile creates the v2 ReplicaSet and starts its step-0 analysis run,
// whose name it returns.
func (f *analysisFixture) toStepAnalysis(t *testing.T) string {
	t.Helper()
	f.reconcile("demo")
	catchUp(t, f.fixture)
	ro := apiRollout(t, f.fixture)
	ro.Spec.Template.Spec.Containers[0].Image = "demo:v2"
	if err := f.rollouts.Tracker().Update(rolloutsGVR, ro, "default"); err != nil {
		t.Fatal(err)
	}
	catchUp(t, f.fixture)
	if n := countCreates(f.rollouts.Actions(), "analysisruns"); n != 0 {
		t.Fatalf("%d AnalysisRuns created before the analysis step", n)
	}
	return templates.RunName("demo", podhash.PodTemplateHash(&ro.Spec.Template, ro.Status.CollisionCount), "2", "0")
}

// foreignRun is an AnalysisRun of that name that no Rollout controls.
func foreignRun(name string) *v1alpha1.AnalysisRun {
	return &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"made-by": "someone-else"}}}
}

func TestAnAnalysisRunNameTakenByAnotherRunIsRetriedAsNameDotOne(t *testing.T) {
	// The run under that name is not this Rollout's: the create is retried
	// under "<name>.1" and the Rollout's status names that run. (A run of
	// its own is taken up instead: see applyruns_test.go.)
	f := newAnalysisFixture(t)
	base := f.toStepAnalysis(t)
	if err := f.rollouts.Tracker().Add(foreignRun(base)); err != nil {
		t.Fatal(err)
	}

	f.reconcile("demo")

	runs, err := f.rollouts.ArgoprojV1alpha1().AnalysisRuns("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]v1alpha1.AnalysisRun{}
	for _, r := range runs.Items {
		byName[r.Name] = r
	}
	if len(byName) != 2 || !reflect.DeepEqual(byName[base].ObjectMeta, foreignRun(base).ObjectMeta) {
		t.Fatalf("AnalysisRuns %v, want the other run untouched and one of ours", runs.Items)
	}
	ours, ok := byName[base+".1"]
	if !ok || !metav1.IsControlledBy(&ours, apiRollout(t, f.fixture)) {
		t.Fatalf("no run %s.1 controlled by the Rollout: %v", base, runs.Items)
	}
	st := apiRollout(t, f.fixture).Status.Canary.CurrentStepAnalysisRunStatus
	if st == nil || st.Name != base+".1" {
		t.Fatalf("status.canary.currentStepAnalysisRunStatus = %+v, want it to name %s.1", st, base)
	}
}

func TestAnAnalysisRunCreateGivesUpAfterFiveNumberedNames(t *testing.T) {
	f := newAnalysisFixture(t)
	base := f.toStepAnalysis(t)
	taken := []string{base, base + ".1", base + ".2", base + ".3", base + ".4", base + ".5"}
	for _, name := range taken {
		if err := f.rollouts.Tracker().Add(foreignRun(name)); err != nil {
			t.Fatal(err)
		}
	}
	f.rollouts.ClearActions()

	_, err := f.r.Reconcile(context.Background(), demoKey)

	if err == nil || !strings.HasPrefix(err.Error(), "creating AnalysisRun "+base+".5: ") || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Reconcile = %v, want the create of %s.5 reported", err, base)
	}
	if n := countCreates(f.rollouts.Actions(), "analysisruns"); n != len(taken) {
		t.Errorf("%d AnalysisRun creates, want one per name tried (%d)", n, len(taken))
	}
	if st := apiRollout(t, f.fixture).Status.Canary.CurrentStepAnalysisRunStatus; st != nil {
		t.Errorf("status names run %s although none was created", st.Name)
	}
}

package tolerant

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	argofake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	"github.com/serin-dev/serin/pkg/client/informers/externalversions"
)

func TestTheFactoryMakesEachKindItsOwnTolerantInformer(t *testing.T) {
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{})
	f := NewFactory(externalversions.NewSharedInformerFactory(argofake.NewSimpleClientset(), 0), Source{Client: dyn, Namespace: "apps"})
	v1 := f.Argoproj().V1alpha1()
	rollouts := v1.Rollouts().Informer()
	templates := v1.AnalysisTemplates().Informer()
	// Informer() wraps the shared informer anew each time: compare caches.
	if rollouts.GetIndexer() == templates.GetIndexer() {
		t.Fatal("two kinds share one cache")
	}
	if v1.Rollouts().Informer().GetIndexer() != rollouts.GetIndexer() {
		t.Fatal("asking twice made a second Rollout informer")
	}
	// An index a controller adds to one kind must not reach another: the
	// templates' cache would run the Rollout index function on templates.
	if err := rollouts.AddIndexers(cache.Indexers{"services": func(any) ([]string, error) { return nil, nil }}); err != nil {
		t.Fatal(err)
	}
	if _, ok := templates.GetIndexer().GetIndexers()["services"]; ok {
		t.Fatal("an index added to the Rollout informer reached the AnalysisTemplate informer")
	}
	if _, err := f.ForResource(v1alpha1.SchemeGroupVersion.WithResource("rollouts")); err == nil {
		t.Fatal("ForResource would bypass tolerant decoding, yet it answered")
	}
}

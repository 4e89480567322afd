package tolerant

import (
	"fmt"
	"reflect"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/client/informers/externalversions"
	"github.com/serin-dev/serin/pkg/client/informers/externalversions/internalinterfaces"
	"github.com/serin-dev/serin/pkg/client/informers/externalversions/rollouts"
)

// Factory is the generated informer factory of Serin's kinds with one
// difference: every informer it makes decodes tolerantly, through src. The
// generated accessors (Argoproj().V1alpha1().Rollouts() and the rest) work
// as they do on the generated factory, and an informer is still made only
// when something asks for it.
type Factory struct {
	externalversions.SharedInformerFactory
	src   Source
	build map[reflect.Type]internalinterfaces.NewInformerFunc
}

// NewFactory wraps typed, which must have been made with the same namespace
// and list tweak as src (the generated factory keeps them private).
func NewFactory(typed externalversions.SharedInformerFactory, src Source) *Factory {
	f := &Factory{SharedInformerFactory: typed, src: src}
	gv := v1alpha1.SchemeGroupVersion
	namespaced := func(resource string) Source {
		s := src
		s.Resource = gv.WithResource(resource)
		return s
	}
	cluster := namespaced("clusteranalysistemplates")
	cluster.Namespace = metav1.NamespaceAll
	f.build = map[reflect.Type]internalinterfaces.NewInformerFunc{
		reflect.TypeFor[*v1alpha1.Rollout]():                 builder[v1alpha1.Rollout](namespaced("rollouts")),
		reflect.TypeFor[*v1alpha1.AnalysisRun]():             builder[v1alpha1.AnalysisRun](namespaced("analysisruns")),
		reflect.TypeFor[*v1alpha1.AnalysisTemplate]():        builder[v1alpha1.AnalysisTemplate](namespaced("analysistemplates")),
		reflect.TypeFor[*v1alpha1.ClusterAnalysisTemplate](): builder[v1alpha1.ClusterAnalysisTemplate](cluster),
		reflect.TypeFor[*v1alpha1.Experiment]():              builder[v1alpha1.Experiment](namespaced("experiments")),
	}
	return f
}

func builder[T any, PT interface {
	*T
	runtime.Object
}](src Source) internalinterfaces.NewInformerFunc {
	return func(_ versioned.Interface, resync time.Duration) cache.SharedIndexInformer {
		// Each informer gets its own map: AddIndexers adds to it.
		return NewInformer[T, PT](src, resync, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
}

// InformerFor returns the shared informer of obj's type, made tolerant.
func (f *Factory) InformerFor(obj runtime.Object, newFunc internalinterfaces.NewInformerFunc) cache.SharedIndexInformer {
	if b, ok := f.build[reflect.TypeOf(obj)]; ok {
		newFunc = b
	}
	return f.SharedInformerFactory.InformerFor(obj, newFunc)
}

// Argoproj gives the generated accessors, backed by this factory.
func (f *Factory) Argoproj() rollouts.Interface {
	return rollouts.New(f, f.src.Namespace, internalinterfaces.TweakListOptionsFunc(f.src.Tweak))
}

// ForResource is not offered: the generated generic informers would bypass
// tolerant decoding. Use the typed accessors of Argoproj.
func (f *Factory) ForResource(resource schema.GroupVersionResource) (externalversions.GenericInformer, error) {
	return nil, fmt.Errorf("no generic informer for %s: use the typed accessors, which decode tolerantly", resource)
}

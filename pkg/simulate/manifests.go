package simulate

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Manifests are the objects of one or more YAML or JSON documents.
type Manifests struct {
	Rollouts                 []*v1alpha1.Rollout
	Services                 map[string]*corev1.Service
	AnalysisTemplates        map[string]*v1alpha1.AnalysisTemplate
	ClusterAnalysisTemplates map[string]*v1alpha1.ClusterAnalysisTemplate
	// Others are every other object, for the traffic routers.
	Others []*unstructured.Unstructured
}

// ReadManifests decodes every document of data. A document that is not an
// object, or a known kind that does not decode, is an error naming it.
func ReadManifests(data []byte) (Manifests, error) {
	m := Manifests{Services: map[string]*corev1.Service{}, AnalysisTemplates: map[string]*v1alpha1.AnalysisTemplate{},
		ClusterAnalysisTemplates: map[string]*v1alpha1.ClusterAnalysisTemplate{}}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for i := 1; ; i++ {
		var obj unstructured.Unstructured
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return m, fmt.Errorf("document %d: %w", i, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		if err := m.add(&obj); err != nil {
			return m, fmt.Errorf("document %d (%s %q): %w", i, obj.GetKind(), obj.GetName(), err)
		}
	}
}

func (m *Manifests) add(obj *unstructured.Unstructured) error {
	gv := obj.GroupVersionKind()
	into := func(out any) error {
		return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, out, true)
	}
	switch {
	case gv.Group == v1alpha1.GroupName && gv.Kind == "Rollout":
		var ro v1alpha1.Rollout
		if err := into(&ro); err != nil {
			return err
		}
		m.Rollouts = append(m.Rollouts, &ro)
	case gv.Group == v1alpha1.GroupName && gv.Kind == "AnalysisTemplate":
		var t v1alpha1.AnalysisTemplate
		if err := into(&t); err != nil {
			return err
		}
		m.AnalysisTemplates[t.Name] = &t
	case gv.Group == v1alpha1.GroupName && gv.Kind == "ClusterAnalysisTemplate":
		var t v1alpha1.ClusterAnalysisTemplate
		if err := into(&t); err != nil {
			return err
		}
		m.ClusterAnalysisTemplates[t.Name] = &t
	case gv.Group == "" && gv.Kind == "Service":
		var s corev1.Service
		if err := into(&s); err != nil {
			return err
		}
		m.Services[s.Name] = &s
	default:
		m.Others = append(m.Others, obj)
	}
	return nil
}

// RouterObjects picks, among the other objects, those the routers
// reference for the Rollout; a reference without a namespace matches an
// object in the Rollout's namespace or without one.
func (m Manifests) RouterObjects(ro *v1alpha1.Rollout, routers []trafficrouting.Router) map[trafficrouting.Ref]*unstructured.Unstructured {
	out := map[trafficrouting.Ref]*unstructured.Unstructured{}
	for _, r := range routers {
		for _, ref := range r.References(ro) {
			for _, obj := range m.Others {
				gvk := obj.GroupVersionKind()
				ns := obj.GetNamespace()
				if ns == "" {
					ns = ro.Namespace
				}
				if gvk.Group == ref.Resource.Group && obj.GetName() == ref.Name && ns == ref.Namespace {
					c := obj.DeepCopy()
					c.SetNamespace(ns)
					out[ref] = c
				}
			}
		}
	}
	return out
}

// AssumeServices adds the Services the Rollout names that are not given,
// selecting its pods, and returns their names: with a file alone the
// cluster's Services are not known.
func AssumeServices(ro *v1alpha1.Rollout, services map[string]*corev1.Service) []string {
	var names []string
	if c := ro.Spec.Strategy.Canary; c != nil {
		names = []string{c.StableService, c.CanaryService}
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		names = []string{bg.ActiveService, bg.PreviewService}
	}
	var added []string
	for _, n := range names {
		if n == "" || services[n] != nil {
			continue
		}
		sel := map[string]string{}
		if ro.Spec.Selector != nil {
			for k, v := range ro.Spec.Selector.MatchLabels {
				sel[k] = v
			}
		}
		services[n] = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: ro.Namespace}, Spec: corev1.ServiceSpec{Selector: sel}}
		added = append(added, n)
	}
	return added
}

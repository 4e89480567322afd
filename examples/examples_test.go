package examples_test

import (
	"encoding/json"
	"strings"
	"testing"

	istionetworking "istio.io/client-go/pkg/apis/networking/v1beta1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/serin-dev/serin/internal/manifesttest"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// typedObject returns an empty Go object for a manifest's kind, from Serin's
// types, Kubernetes' built-in types or Istio's.
func typedObject(apiVersion, kind string) (any, bool) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, false
	}
	switch {
	case gv.Group == v1alpha1.GroupName:
		obj, err := ourScheme.New(gv.WithKind(kind))
		return obj, err == nil
	case gv.Group == "networking.istio.io" && kind == "VirtualService":
		return &istionetworking.VirtualService{}, true
	case gv.Group == "networking.istio.io" && kind == "DestinationRule":
		return &istionetworking.DestinationRule{}, true
	}
	obj, err := scheme.Scheme.New(gv.WithKind(kind))
	return obj, err == nil
}

// TestExamplesDecodeStrictly decodes every object in examples/ into its Go
// type with unknown fields as errors, and checks that nothing is lost when it
// is encoded again.
func TestExamplesDecodeStrictly(t *testing.T) {
	objs, err := manifesttest.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	rollouts := 0
	for _, o := range objs {
		t.Run(o.String(), func(t *testing.T) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			obj, ok := typedObject(o.APIVersion, o.Kind)
			if !ok {
				t.Fatalf("no Go type for %s %s", o.APIVersion, o.Kind)
			}
			if err := manifesttest.DecodeStrict(o.JSON, obj); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			out, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			compare := manifesttest.Lost
			if strings.Contains(o.APIVersion, "istio.io/") {
				compare = manifesttest.LostProto
			}
			lost, err := compare(o.JSON, out)
			if err != nil {
				t.Fatal(err)
			}
			if len(lost) > 0 {
				t.Errorf("re-encoding lost:\n  %s", strings.Join(lost, "\n  "))
			}
		})
		if o.Kind == v1alpha1.RolloutKind {
			rollouts++
		}
	}
	if rollouts < 4 {
		t.Errorf("found %d Rollouts in examples/, want at least 4", rollouts)
	}
}

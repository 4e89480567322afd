package cluster

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The written router CRDs are well-formed: each named plural.group, with a
// stored version, and typed spec fields in place.
func TestWrittenRouterCRDs(t *testing.T) {
	stored := map[string]bool{}
	for _, doc := range writtenRouterCRDs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		plural, _, _ := unstructured.NestedString(u.Object, "spec", "names", "plural")
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		if u.GetName() != plural+"."+group {
			t.Errorf("CRD %s names %s.%s", u.GetName(), plural, group)
		}
		versions, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
		for _, v := range versions {
			if v.(map[string]any)["storage"] == true {
				stored[u.GetName()] = true
			}
		}
	}
	if len(stored) != len(writtenRouterCRDs) {
		t.Fatalf("CRDs with a stored version: %v", stored)
	}
	mapping := &unstructured.Unstructured{}
	_ = yaml.Unmarshal([]byte(writtenRouterCRDs[0]), &mapping.Object)
	versions, _, _ := unstructured.NestedSlice(mapping.Object, "spec", "versions")
	weight, _, _ := unstructured.NestedString(versions[0].(map[string]any), "schema", "openAPIV3Schema", "properties", "spec", "properties", "weight", "type")
	if weight != "integer" {
		t.Fatalf("Mapping spec.weight type %q", weight)
	}
}

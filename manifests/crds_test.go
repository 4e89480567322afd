package manifests_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/internal/testpaths"
)

// crdFiles are the CRDs Serin installs, named as Argo Rollouts names them.
var crdFiles = []string{
	"rollout-crd.yaml",
	"analysis-template-crd.yaml",
	"cluster-analysis-template-crd.yaml",
	"analysis-run-crd.yaml",
	"experiment-crd.yaml",
}

// schemaFacets are the parts of a schema node that decide what the API server
// accepts, prunes or defaults. Descriptions are left out on purpose.
var schemaFacets = []string{
	"type", "format", "enum", "default", "pattern", "nullable",
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
	"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
	"x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
	"x-kubernetes-map-type", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
	"x-kubernetes-validations", "x-kubernetes-embedded-resource",
}

// kubernetesDrift lists differences inside embedded Kubernetes types that come
// from the newer k8s.io/api Serin builds with, not from Serin's own types. Each
// makes our schema accept more, never less, than upstream's.
var kubernetesDrift = map[string]string{
	// Kubernetes 1.35 made a pod failure policy condition's status optional.
	".spec.metrics[].provider.job.spec.podFailurePolicy.rules[].onPodConditions[]: required upstream [status type], ours [type]": "k8s.io/api batch/v1",
}

// TestCRDsCoverUpstream walks every property path of Argo Rollouts' CRDs and
// fails on any path, facet, required field, printer column, name, scope or
// subresource that Serin's generated CRDs lack or state differently.
func TestCRDsCoverUpstream(t *testing.T) {
	upstreamDir := testpaths.Shared(t, "conformance", "upstream-crds")
	for _, file := range crdFiles {
		t.Run(file, func(t *testing.T) {
			want := readCRD(t, filepath.Join(upstreamDir, file))
			got := readCRD(t, file)
			var problems []string
			problems = append(problems, compareHeader(want, got)...)
			wantVersions := versionsByName(want)
			gotVersions := versionsByName(got)
			for name, wv := range wantVersions {
				gv, ok := gotVersions[name]
				if !ok {
					problems = append(problems, fmt.Sprintf("version %s is missing", name))
					continue
				}
				problems = append(problems, compareVersion(name, wv, gv)...)
			}
			problems = withoutDrift(problems)
			if len(problems) > 0 {
				sort.Strings(problems)
				t.Errorf("%s differs from upstream in %d places:\n  %s", file, len(problems), strings.Join(problems, "\n  "))
			}
		})
	}
}

func withoutDrift(problems []string) []string {
	var kept []string
	for _, p := range problems {
		if _, ok := kubernetesDrift[p]; !ok {
			kept = append(kept, p)
		}
	}
	return kept
}

// TestCRDKustomizationListsEveryCRD makes sure `kubectl apply -k manifests/crds`
// installs all five kinds.
func TestCRDKustomizationListsEveryCRD(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("crds", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	got := append([]string(nil), k.Resources...)
	want := append([]string(nil), crdFiles...)
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("crds/kustomization.yaml lists %v, want %v", got, want)
	}
}

func readCRD(t *testing.T, path string) map[string]any {
	t.Helper()
	if !filepath.IsAbs(path) {
		path = filepath.Join("crds", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return crd
}

func compareHeader(want, got map[string]any) []string {
	var problems []string
	for _, path := range [][]string{
		{"metadata", "name"}, {"spec", "group"}, {"spec", "scope"},
		{"spec", "names", "kind"}, {"spec", "names", "listKind"},
		{"spec", "names", "plural"}, {"spec", "names", "singular"},
		{"spec", "names", "shortNames"}, {"spec", "names", "categories"},
	} {
		if w, g := lookup(want, path...), lookup(got, path...); !reflect.DeepEqual(w, g) {
			problems = append(problems, fmt.Sprintf("%s: upstream %v, ours %v", strings.Join(path, "."), w, g))
		}
	}
	return problems
}

func versionsByName(crd map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	versions, _ := lookup(crd, "spec", "versions").([]any)
	for _, v := range versions {
		m := v.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

func compareVersion(name string, want, got map[string]any) []string {
	var problems []string
	for _, key := range []string{"served", "storage", "subresources"} {
		if !reflect.DeepEqual(want[key], got[key]) {
			problems = append(problems, fmt.Sprintf("version %s %s: upstream %v, ours %v", name, key, want[key], got[key]))
		}
	}
	// Every upstream printer column is there, in the same order, with the same
	// path and type; extra columns of ours must be priority 1 (-o wide only).
	wantCols, _ := want["additionalPrinterColumns"].([]any)
	gotCols, _ := got["additionalPrinterColumns"].([]any)
	var defaultCols []any
	for _, c := range gotCols {
		if p, _ := c.(map[string]any)["priority"].(float64); p == 0 {
			defaultCols = append(defaultCols, c)
		}
	}
	if len(defaultCols) != len(wantCols) {
		problems = append(problems, fmt.Sprintf("version %s: %d default printer columns, upstream has %d", name, len(defaultCols), len(wantCols)))
	} else {
		for i := range wantCols {
			w, g := wantCols[i].(map[string]any), defaultCols[i].(map[string]any)
			for _, key := range []string{"name", "jsonPath", "type", "format"} {
				if !reflect.DeepEqual(w[key], g[key]) {
					problems = append(problems, fmt.Sprintf("version %s printer column %d %s: upstream %v, ours %v", name, i, key, w[key], g[key]))
				}
			}
		}
	}
	ws, _ := lookup(want, "schema", "openAPIV3Schema").(map[string]any)
	gs, _ := lookup(got, "schema", "openAPIV3Schema").(map[string]any)
	return append(problems, compareSchema("", ws, gs)...)
}

// compareSchema reports where the schema node got differs from want, and
// recurses into every property, array item and map value that want has.
func compareSchema(path string, want, got map[string]any) []string {
	at := path
	if at == "" {
		at = "."
	}
	if got == nil {
		return []string{fmt.Sprintf("%s: missing", at)}
	}
	var problems []string
	for _, facet := range schemaFacets {
		if w, g := want[facet], got[facet]; !reflect.DeepEqual(w, g) {
			problems = append(problems, fmt.Sprintf("%s: %s upstream %v, ours %v", at, facet, w, g))
		}
	}
	if w, g := stringSet(want["required"]), stringSet(got["required"]); !reflect.DeepEqual(w, g) {
		problems = append(problems, fmt.Sprintf("%s: required upstream %v, ours %v", at, w, g))
	}
	wantProps, _ := want["properties"].(map[string]any)
	gotProps, _ := got["properties"].(map[string]any)
	for _, name := range sortedKeys(wantProps) {
		g, _ := gotProps[name].(map[string]any)
		problems = append(problems, compareSchema(path+"."+name, wantProps[name].(map[string]any), g)...)
	}
	if wi, ok := want["items"].(map[string]any); ok {
		gi, _ := got["items"].(map[string]any)
		problems = append(problems, compareSchema(path+"[]", wi, gi)...)
	}
	if wa, ok := want["additionalProperties"].(map[string]any); ok {
		ga, _ := got["additionalProperties"].(map[string]any)
		problems = append(problems, compareSchema(path+"{}", wa, ga)...)
	}
	return problems
}

func stringSet(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, fmt.Sprint(s))
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func lookup(obj any, keys ...string) any {
	for _, k := range keys {
		m, ok := obj.(map[string]any)
		if !ok {
			return nil
		}
		obj = m[k]
	}
	return obj
}

// TestRolloutWideColumns checks the columns Serin adds for
// `kubectl get rollout -o wide`: shown only with -o wide, and each reading a
// field that our status schema has.
func TestRolloutWideColumns(t *testing.T) {
	crd := readCRD(t, "rollout-crd.yaml")
	version := versionsByName(crd)["v1alpha1"]
	cols, _ := version["additionalPrinterColumns"].([]any)
	schema, _ := lookup(version, "schema", "openAPIV3Schema").(map[string]any)
	wide := map[string]string{}
	for _, c := range cols {
		col := c.(map[string]any)
		if p, _ := col["priority"].(float64); p == 1 {
			wide[col["name"].(string)] = col["jsonPath"].(string)
		}
	}
	for _, name := range []string{"Phase", "Step", "Weight", "Message"} {
		path, ok := wide[name]
		if !ok {
			t.Errorf("no -o wide column %q (have %v)", name, wide)
			continue
		}
		node := schema
		for _, part := range strings.Split(strings.TrimPrefix(path, "."), ".") {
			props, _ := node["properties"].(map[string]any)
			node, _ = props[part].(map[string]any)
			if node == nil {
				t.Errorf("column %q reads %s, which the schema lacks at %q", name, path, part)
				break
			}
		}
	}
}

// TestStatusHasNoFieldUpstreamPrunes fails on a status property that Argo
// Rollouts' CRDs lack: on a cluster installed from upstream's chart the API
// server drops such a field from every status write, so the controller may
// neither write it nor decide anything on it.
func TestStatusHasNoFieldUpstreamPrunes(t *testing.T) {
	upstreamDir := testpaths.Shared(t, "conformance", "upstream-crds")
	for _, file := range crdFiles {
		t.Run(file, func(t *testing.T) {
			want := statusPaths(readCRD(t, filepath.Join(upstreamDir, file)))
			for _, p := range statusPaths(readCRD(t, file)) {
				if !slices.Contains(want, p) {
					t.Errorf("status field %s is not in upstream's schema and would be pruned", p)
				}
			}
		})
	}
}

// statusPaths lists every property path under .status of a CRD's versions.
func statusPaths(crd map[string]any) []string {
	var out []string
	var walk func(prefix string, node map[string]any)
	walk = func(prefix string, node map[string]any) {
		props, _ := node["properties"].(map[string]any)
		for _, k := range sortedKeys(props) {
			child, _ := props[k].(map[string]any)
			out = append(out, prefix+"."+k)
			walk(prefix+"."+k, child)
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(prefix+"[]", items)
		}
	}
	for name, v := range versionsByName(crd) {
		status, _ := lookup(v, "schema", "openAPIV3Schema", "properties", "status").(map[string]any)
		walk(name+".status", status)
	}
	return out
}

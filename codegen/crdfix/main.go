// Command crdfix turns controller-gen's CRDs into the ones Serin installs. It
// loosens the schema in the places where Argo Rollouts' CRDs accept anything
// (container resources, volumes, embedded pod metadata), so that no manifest
// that installs under Argo Rollouts is rejected or pruned by Serin's CRDs, and
// writes one file per kind plus a kustomization.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// fileNames are the file names each kind is written to.
var fileNames = map[string]string{
	"Rollout":                 "rollout-crd.yaml",
	"AnalysisTemplate":        "analysis-template-crd.yaml",
	"ClusterAnalysisTemplate": "cluster-analysis-template-crd.yaml",
	"AnalysisRun":             "analysis-run-crd.yaml",
	"Experiment":              "experiment-crd.yaml",
}

// podTemplateRoots is where each kind embeds a pod template, as a dotted path
// in which "[]" steps into the items of an array.
var podTemplateRoots = map[string][]string{
	"Rollout":                 {"spec.template"},
	"Experiment":              {"spec.templates[].template"},
	"AnalysisTemplate":        {"spec.metrics[].provider.job.spec.template"},
	"ClusterAnalysisTemplate": {"spec.metrics[].provider.job.spec.template"},
	"AnalysisRun":             {"spec.metrics[].provider.job.spec.template"},
}

// embeddedRoots hold Kubernetes' own types (pod templates, Job specs). Their
// CEL rules are stripped: the newer k8s.io/api marks some fields immutable
// with oldSelf rules, which the API server rejects inside plain lists such as
// spec.metrics, and which Argo Rollouts' CRDs do not have.
var embeddedRoots = map[string][]string{
	"Rollout":                 {"spec.template"},
	"Experiment":              {"spec.templates[].template"},
	"AnalysisTemplate":        {"spec.metrics[].provider.job"},
	"ClusterAnalysisTemplate": {"spec.metrics[].provider.job"},
	"AnalysisRun":             {"spec.metrics[].provider.job"},
}

// extraMetadataRoots are object metadata fields, beyond those of the pod
// templates, that accept only labels and annotations.
var extraMetadataRoots = map[string][]string{
	"AnalysisTemplate":        {"spec.metrics[].provider.job.metadata"},
	"ClusterAnalysisTemplate": {"spec.metrics[].provider.job.metadata"},
	"AnalysisRun":             {"spec.metrics[].provider.job.metadata"},
}

func main() {
	in := flag.String("in", "", "multi-document YAML written by controller-gen")
	out := flag.String("out", "", "directory to write the CRDs into")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "crdfix:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var written []string
	for _, doc := range splitDocuments(raw) {
		var crd map[string]any
		if err := yaml.Unmarshal(doc, &crd); err != nil {
			return err
		}
		if crd == nil {
			continue
		}
		kind, _ := lookup(crd, "spec", "names", "kind").(string)
		name, ok := fileNames[kind]
		if !ok {
			return fmt.Errorf("unexpected kind %q in controller-gen output", kind)
		}
		if err := adjust(crd, kind); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		data, err := yaml.Marshal(crd)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
		written = append(written, name)
	}
	if len(written) != len(fileNames) {
		return fmt.Errorf("controller-gen wrote %d CRDs, want %d", len(written), len(fileNames))
	}
	sort.Strings(written)
	var k bytes.Buffer
	k.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, name := range written {
		k.WriteString("- " + name + "\n")
	}
	return os.WriteFile(filepath.Join(out, "kustomization.yaml"), k.Bytes(), 0o644)
}

// adjust applies the schema changes to every version of one CRD.
func adjust(crd map[string]any, kind string) error {
	versions, _ := lookup(crd, "spec", "versions").([]any)
	for _, v := range versions {
		schema, ok := lookup(v, "schema", "openAPIV3Schema").(map[string]any)
		if !ok {
			return fmt.Errorf("version without an openAPIV3Schema")
		}
		for _, root := range podTemplateRoots[kind] {
			for _, container := range []string{"containers", "initContainers", "ephemeralContainers"} {
				for _, field := range []string{"limits", "requests"} {
					path := root + ".spec." + container + "[].resources." + field
					if err := replace(schema, path, anything()); err != nil {
						return err
					}
				}
			}
			if err := replace(schema, root+".spec.volumes", anything()); err != nil {
				return err
			}
			if err := replace(schema, root+".metadata", labelsAndAnnotations()); err != nil {
				return err
			}
		}
		for _, path := range embeddedRoots[kind] {
			node, err := find(schema, path)
			if err != nil {
				return err
			}
			stripValidations(node)
		}
		for _, path := range extraMetadataRoots[kind] {
			if err := replace(schema, path, labelsAndAnnotations()); err != nil {
				return err
			}
		}
	}
	return nil
}

func anything() map[string]any {
	return map[string]any{"x-kubernetes-preserve-unknown-fields": true}
}

func labelsAndAnnotations() map[string]any {
	stringMap := func() map[string]any {
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	}
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"labels":      stringMap(),
			"annotations": stringMap(),
		},
	}
}

// replace sets the schema at a dotted property path, which must already exist.
func replace(schema map[string]any, path string, with map[string]any) error {
	node := schema
	parts := strings.Split(path, ".")
	for i, part := range parts {
		items := strings.HasSuffix(part, "[]")
		part = strings.TrimSuffix(part, "[]")
		props, _ := node["properties"].(map[string]any)
		child, ok := props[part].(map[string]any)
		if !ok {
			return fmt.Errorf("schema has no property %q", strings.Join(parts[:i+1], "."))
		}
		if i == len(parts)-1 && !items {
			props[part] = with
			return nil
		}
		if items {
			child, ok = child["items"].(map[string]any)
			if !ok {
				return fmt.Errorf("schema property %q is not an array", strings.Join(parts[:i+1], "."))
			}
		}
		node = child
	}
	return nil
}

// find returns the schema node at a dotted property path.
func find(schema map[string]any, path string) (map[string]any, error) {
	node := schema
	for _, part := range strings.Split(path, ".") {
		items := strings.HasSuffix(part, "[]")
		part = strings.TrimSuffix(part, "[]")
		props, _ := node["properties"].(map[string]any)
		child, ok := props[part].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("schema has no property %q", path)
		}
		if items {
			if child, ok = child["items"].(map[string]any); !ok {
				return nil, fmt.Errorf("schema property %q is not an array", path)
			}
		}
		node = child
	}
	return node, nil
}

// stripValidations removes every CEL rule at and below a schema node.
func stripValidations(node any) {
	switch n := node.(type) {
	case map[string]any:
		delete(n, "x-kubernetes-validations")
		for _, v := range n {
			stripValidations(v)
		}
	case []any:
		for _, v := range n {
			stripValidations(v)
		}
	}
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

func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	data = append([]byte("\n"), data...)
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) > 0 && !bytes.Equal(bytes.TrimSpace(doc), []byte("---")) {
			docs = append(docs, doc)
		}
	}
	return docs
}

// Package manifesttest reads multi-document YAML manifests, decodes them
// strictly into Go types and checks that a re-encoding lost nothing. Tests of
// examples and of the conformance corpus share it.
package manifesttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Object is one document of a manifest file.
type Object struct {
	File       string
	Index      int
	APIVersion string
	Kind       string
	Name       string
	JSON       []byte
	// Err is set when the document is not valid YAML; the other fields but
	// File and Index are then empty.
	Err error
}

func (o Object) String() string {
	return fmt.Sprintf("%s#%d %s/%s %s", filepath.Base(o.File), o.Index, o.APIVersion, o.Kind, o.Name)
}

// ReadDir reads every .yaml and .yml file below dir, in a stable order.
func ReadDir(dir string) ([]Object, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Object
	for _, f := range files {
		objs, err := ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// ReadFile splits a file into its documents, skipping empty ones. A document
// that is not valid YAML is returned with Err set.
func ReadFile(path string) ([]Object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Object
	for i, doc := range splitDocuments(data) {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			out = append(out, Object{File: path, Index: i, Err: err})
			continue
		}
		if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(j, &head); err != nil {
			return nil, fmt.Errorf("%s document %d: %w", path, i, err)
		}
		out = append(out, Object{File: path, Index: i, APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name, JSON: j})
	}
	return out, nil
}

func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "---") && strings.TrimSpace(strings.TrimLeft(line, "-")) == "" {
			docs = append(docs, []byte(strings.Join(cur, "\n")))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return append(docs, []byte(strings.Join(cur, "\n")))
}

// DecodeStrict decodes JSON into into, failing on unknown or duplicate
// fields and on fields whose case differs from the Go type's JSON name.
func DecodeStrict(data []byte, into any) error {
	strictErrs, err := sigsjson.UnmarshalStrict(data, into, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("strict decoding: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// Lost lists the paths of original whose value is missing or different in
// reencoded. Null values and empty objects or lists in original count as
// absent, since a Go type may drop them without changing their meaning.
func Lost(original, reencoded []byte) ([]string, error) {
	return lost(original, reencoded, false)
}

// LostProto is Lost for types encoded with protobuf's JSON mapping (Istio's),
// which leaves out zero numbers, empty strings and false: those count as absent
// in original too.
func LostProto(original, reencoded []byte) ([]string, error) {
	return lost(original, reencoded, true)
}

func lost(original, reencoded []byte, zeroIsAbsent bool) ([]string, error) {
	var a, b any
	if err := json.Unmarshal(original, &a); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(reencoded, &b); err != nil {
		return nil, err
	}
	var out []string
	subset("", a, b, zeroIsAbsent, &out)
	sort.Strings(out)
	return out, nil
}

func subset(path string, want, got any, zeroIsAbsent bool, lost *[]string) {
	if isEmpty(want) || (zeroIsAbsent && isZero(want) && got == nil) {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*lost = append(*lost, fmt.Sprintf("%s: want an object, got %v", pathOrRoot(path), got))
			return
		}
		for k, v := range w {
			subset(path+"."+k, v, g[k], zeroIsAbsent, lost)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*lost = append(*lost, fmt.Sprintf("%s: want %d items, got %v", pathOrRoot(path), len(w), got))
			return
		}
		for i := range w {
			subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], zeroIsAbsent, lost)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			*lost = append(*lost, fmt.Sprintf("%s: want %v, got %v", pathOrRoot(path), want, got))
		}
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

func isZero(v any) bool {
	switch x := v.(type) {
	case float64:
		return x == 0
	case string:
		return x == ""
	case bool:
		return !x
	}
	return false
}

func pathOrRoot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

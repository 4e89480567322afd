// Package trtest holds the helpers the router tests share: objects and
// Rollouts from YAML literals, and comparison of objects as YAML.
package trtest

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Obj parses one object as the API server would hand it over: numbers that
// are whole become int64.
func Obj(t testing.TB, doc string) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatalf("bad YAML: %v", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatalf("bad object: %v", err)
	}
	return u
}

// Rollout parses a Rollout.
func Rollout(t testing.TB, doc string) *v1alpha1.Rollout {
	t.Helper()
	ro := &v1alpha1.Rollout{}
	if err := yaml.UnmarshalStrict([]byte(doc), ro); err != nil {
		t.Fatalf("bad Rollout: %v", err)
	}
	return ro
}

// Canonical renders an object as YAML with sorted keys, after a JSON round
// trip so that int64, int32 and float64 numbers look alike.
func Canonical(t testing.TB, obj any) string {
	t.Helper()
	j, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	y, err := yaml.Marshal(v)
	if err != nil {
		t.Fatalf("yaml: %v", err)
	}
	return string(y)
}

// Equal fails the test unless got and the YAML literal want are the same
// object.
func Equal(t testing.TB, got *unstructured.Unstructured, want string) {
	t.Helper()
	if got == nil {
		t.Fatalf("got no object, want:\n%s", want)
	}
	g := Canonical(t, got.Object)
	w := Canonical(t, Obj(t, want).Object)
	if g != w {
		t.Fatalf("object differs\n--- got\n%s\n--- want\n%s", g, w)
	}
}

// Apply returns observed with the planned writes applied: updates and
// creates replace or add the object at its reference, deletes remove it.
func Apply(observed map[trafficrouting.Ref]*unstructured.Unstructured, w trafficrouting.Writes) map[trafficrouting.Ref]*unstructured.Unstructured {
	out := map[trafficrouting.Ref]*unstructured.Unstructured{}
	for k, v := range observed {
		out[k] = v
	}
	for _, c := range append(append([]trafficrouting.Change{}, w.Updates...), w.Creates...) {
		out[c.Ref] = c.Unstructured
	}
	for _, r := range w.Deletes {
		delete(out, r)
	}
	return out
}

// NoWrites fails the test when w holds anything.
func NoWrites(t testing.TB, w trafficrouting.Writes) {
	t.Helper()
	if !w.Empty() {
		var names []string
		for _, wr := range w.InOrder(nil) {
			names = append(names, wr.Op.String()+" "+wr.Ref.Resource.Resource+"/"+wr.Ref.Name)
		}
		t.Fatalf("want no writes, got %s", strings.Join(names, ", "))
	}
}

// ErrContains fails the test unless err is non-nil and mentions every part.
func ErrContains(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error mentioning %q, got none", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

// Value parses a YAML literal into plain JSON values (no Kind needed).
func Value(t testing.TB, doc string) any {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatalf("bad YAML: %v", err)
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		t.Fatalf("bad JSON: %v", err)
	}
	return v
}

// EqualValue fails the test unless got renders like the YAML literal want.
func EqualValue(t testing.TB, got any, want string) {
	t.Helper()
	g, w := Canonical(t, got), Canonical(t, Value(t, want))
	if g != w {
		t.Fatalf("value differs\n--- got\n%s\n--- want\n%s", g, w)
	}
}

package v1alpha1

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// wireRoots are the types that cross the plugin wire, by their upstream
// names.
var wireRoots = map[string]reflect.Type{
	"Rollout":           reflect.TypeFor[Rollout](),
	"AnalysisRun":       reflect.TypeFor[AnalysisRun](),
	"Metric":            reflect.TypeFor[Metric](),
	"Measurement":       reflect.TypeFor[Measurement](),
	"WeightDestination": reflect.TypeFor[WeightDestination](),
	"SetHeaderRoute":    reflect.TypeFor[SetHeaderRoute](),
	"SetMirrorRoute":    reflect.TypeFor[SetMirrorRoute](),
}

// wireExceptions are upstream fields Serin does not have, with the reason
// a plugin loses nothing.
var wireExceptions = map[string]string{
	"RolloutSpec.TemplateResolvedFromRef": "controller-internal marker, never serialised (json:\"-\"); a plugin decodes false",
	"RolloutSpec.SelectorResolvedFromRef": "controller-internal marker, never serialised (json:\"-\"); a plugin decodes false",
}

// TestWireTypesHaveUpstreamsGoFieldNames guards the rule in the package
// doc: gob matches fields by Go name, so a renamed, missing or extra field
// on any type a plugin receives is lost or misread on the other side.
func TestWireTypesHaveUpstreamsGoFieldNames(t *testing.T) {
	seen := map[string]bool{}
	var problems []string
	for name, typ := range wireRoots {
		problems = append(problems, compareWire(name, typ, seen)...)
	}
	slices.Sort(problems)
	for _, p := range problems {
		t.Error(p)
	}
	if len(seen) != len(upstreamWireFields) {
		t.Errorf("walked %d upstream types, the list has %d: the list holds types no root reaches", len(seen), len(upstreamWireFields))
	}
}

// compareWire checks one Serin struct against the upstream struct it
// stands for, then the structs its fields hold.
func compareWire(upstream string, typ reflect.Type, seen map[string]bool) []string {
	if seen[upstream] {
		return nil
	}
	seen[upstream] = true
	want, ok := upstreamWireFields[upstream]
	if !ok {
		return []string{fmt.Sprintf("%s: not in the upstream list", upstream)}
	}
	var problems []string
	ours := map[string]reflect.StructField{}
	for i := range typ.NumField() {
		if f := typ.Field(i); f.IsExported() {
			ours[f.Name] = f
		}
	}
	for _, entry := range want {
		name, nested, _ := cutType(entry)
		f, ok := ours[name]
		delete(ours, name)
		switch {
		case !ok && wireExceptions[upstream+"."+name] != "":
		case !ok:
			problems = append(problems, fmt.Sprintf("%s (Serin's %s) lacks upstream's field %s", upstream, typ.Name(), name))
		case nested != "":
			problems = append(problems, compareWire(nested, elem(f.Type), seen)...)
		}
	}
	for name := range ours {
		problems = append(problems, fmt.Sprintf("%s (Serin's %s) has field %s, which upstream lacks", upstream, typ.Name(), name))
	}
	return problems
}

func cutType(entry string) (name, nested string, ok bool) {
	for i := range entry {
		if entry[i] == ':' {
			return entry[:i], entry[i+1:], true
		}
	}
	return entry, "", false
}

// elem is the struct a field holds through pointers, slices and maps.
func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	return t
}

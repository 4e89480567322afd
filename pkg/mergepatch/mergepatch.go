// Package mergepatch computes RFC 7386 JSON merge patches between two values,
// so that a controller sends only the fields it changed and leaves the rest
// (including what users wrote meanwhile) alone.
package mergepatch

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// Create returns the merge patch that turns original into modified, and
// whether there is any difference. Objects are compared key by key; arrays
// and scalars are replaced whole, as merge patch defines.
func Create(original, modified any) ([]byte, bool, error) {
	ajson, err := json.Marshal(original)
	if err != nil {
		return nil, false, err
	}
	bjson, err := json.Marshal(modified)
	if err != nil {
		return nil, false, err
	}
	if bytes.Equal(ajson, bjson) {
		// The common case of a reconcile that changes nothing: encoding/json
		// writes struct fields in order and map keys sorted, so equal values
		// encode to equal bytes.
		return nil, false, nil
	}
	a, err := toGeneric(ajson)
	if err != nil {
		return nil, false, err
	}
	b, err := toGeneric(bjson)
	if err != nil {
		return nil, false, err
	}
	patch, changed := diff(a, b)
	if !changed {
		return nil, false, nil
	}
	data, err := json.Marshal(patch)
	return data, true, err
}

func toGeneric(data []byte) (any, error) {
	var out any
	err := json.Unmarshal(data, &out)
	return out, err
}

// diff returns the patch from a to b and whether they differ.
func diff(a, b any) (any, bool) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if !aIsMap || !bIsMap {
		if reflect.DeepEqual(a, b) {
			return nil, false
		}
		return b, true
	}
	patch := map[string]any{}
	for k, av := range am {
		bv, ok := bm[k]
		if !ok {
			patch[k] = nil
			continue
		}
		if p, changed := diff(av, bv); changed {
			patch[k] = p
		}
	}
	for k, bv := range bm {
		if _, ok := am[k]; !ok {
			patch[k] = bv
		}
	}
	return patch, len(patch) > 0
}

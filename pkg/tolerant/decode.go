// Package tolerant decodes user-written objects the way Argo Rollouts does:
// a field whose value does not fit its Go type (a quantity that does not
// parse, a string where a number belongs) is left out, and the rest of the
// object is used. The API server accepts such values wherever a CRD leaves a
// field free-form, so a typed informer that failed on them would stop every
// object of the kind, in every namespace, from being reconciled.
package tolerant

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// MaxDropped bounds how many fields one object may have left out one by one;
// past it, a failing part of the object is left out whole. It keeps the cost
// of decoding a hostile object linear in its size.
const MaxDropped = 32

// Dropped is a field left out of a decoded object, and why.
type Dropped struct {
	// Path is the field's path, such as
	// spec.template.spec.containers[0].resources.requests.memory.
	Path string
	// Reason is the decoding error of its value.
	Reason string
}

func (d Dropped) String() string { return d.Path + ": " + d.Reason }

// Convert decodes u into a new PT. When u does not decode as a whole, the
// fields that cannot be decoded are removed from u, each named in the
// returned list, and what is left is decoded. It fails only when even that
// does not decode, which a JSON object cannot cause.
func Convert[T any, PT interface {
	*T
	runtime.Object
}](u map[string]any) (PT, []Dropped, error) {
	out := PT(new(T))
	err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, out)
	if err == nil {
		return out, nil, nil
	}
	p := pruner[T, PT]{}
	p.prune(nil, u)
	out = PT(new(T))
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, out); err != nil {
		return nil, p.dropped, fmt.Errorf("decoding what is left after dropping %d malformed fields: %w", len(p.dropped), err)
	}
	return out, p.dropped, nil
}

// pruner finds and removes the fields of an object that do not decode.
type pruner[T any, PT interface {
	*T
	runtime.Object
}] struct {
	dropped []Dropped
}

// probe decodes value alone, placed at path in an otherwise empty object.
// Go's decoding of a struct field does not depend on its siblings, so a
// value that decodes alone decodes within the whole object too.
func (p *pruner[T, PT]) probe(path []any, value any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(skeleton(path, value), PT(new(T)))
}

// prune removes from node (at path), which does not decode, the parts that
// do not. It returns what is left of node, or drop=true when node must go
// whole: its own shape is wrong (an object where a list belongs), or more
// than MaxDropped fields were named already. Only failing children are
// descended, so the work grows with the object's size, not its nesting.
func (p *pruner[T, PT]) prune(path []any, node any) (left any, drop bool) {
	root := len(path) == 0
	switch n := node.(type) {
	case map[string]any:
		if !root && p.probe(path, map[string]any{}) != nil {
			return nil, true
		}
		for _, k := range slices.Sorted(maps.Keys(n)) {
			v, keep, stop := p.pruneChild(path, k, n[k])
			switch {
			case stop:
				return nil, true
			case keep:
				n[k] = v
			default:
				delete(n, k)
			}
		}
		return n, false
	case []any:
		if p.probe(path, []any{}) != nil {
			return nil, true
		}
		kept := make([]any, 0, len(n))
		for i, item := range n {
			v, keep, stop := p.pruneChild(path, i, item)
			if stop {
				return nil, true
			}
			if keep {
				kept = append(kept, v)
			}
		}
		return kept, false
	}
	return nil, true
}

// pruneChild looks at the child at key (a field name or a list index) of the
// node at path: it is kept as it is if it decodes, pruned, or dropped and
// recorded. stop asks the caller to drop the whole node instead, once
// MaxDropped fields were named (never at the root).
func (p *pruner[T, PT]) pruneChild(path []any, key, value any) (left any, keep, stop bool) {
	at := append(append(make([]any, 0, len(path)+1), path...), key)
	err := p.probe(at, value)
	if err == nil {
		return value, true, false
	}
	if len(p.dropped) >= MaxDropped && len(path) > 0 {
		return nil, false, true
	}
	left, drop := p.prune(at, value)
	if drop {
		p.dropped = append(p.dropped, Dropped{Path: pathString(at), Reason: err.Error()})
		return nil, false, false
	}
	return left, true, false
}

// skeleton builds an object that holds value at path and nothing else. A list
// index becomes a one-element list.
func skeleton(path []any, value any) map[string]any {
	v := value
	for i := len(path) - 1; i >= 0; i-- {
		switch k := path[i].(type) {
		case string:
			v = map[string]any{k: v}
		case int:
			v = []any{v}
		}
	}
	m, _ := v.(map[string]any)
	return m
}

func pathString(path []any) string {
	var b strings.Builder
	for _, e := range path {
		switch k := e.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

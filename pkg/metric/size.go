package metric

import (
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm/runtime"
)

// expandedSize counts the values a walk over v meets, stopping at limit.
// Strings and other scalars count one; an array or map counts one plus its
// elements, each time it appears, so that shared arrays count as the copies
// a walk over them (==, in, max, flatten, toJSON) visits.
func expandedSize(v any, limit uint) uint {
	c := counter{limit: limit}
	c.value(reflect.ValueOf(v))
	return c.n
}

type counter struct {
	n, limit uint
}

func (c *counter) value(v reflect.Value) {
	for (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && !v.IsNil() {
		v = v.Elem()
	}
	c.n++
	if c.n >= c.limit {
		return
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		if scalar(v.Type().Elem()) {
			c.n += uint(v.Len())
			return
		}
		for i := 0; i < v.Len() && c.n < c.limit; i++ {
			c.value(v.Index(i))
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next() && c.n < c.limit; {
			c.value(it.Key())
			c.value(it.Value())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		for i := 0; i < v.NumField() && c.n < c.limit; i++ {
			c.value(v.Field(i))
		}
	}
}

func scalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// outputBound is an upper bound, in memory units, of what the builtin name
// makes from args. Walks over the arguments stop once the bound reaches
// limit, so their cost is bounded too. Arguments of the wrong type count
// for nothing: the builtin itself reports them.
func outputBound(name string, args []any, limit uint) uint {
	switch name {
	case "repeat":
		return mulSat(uint(len(stringArg(args, 0))), uint(max(toInt(args, 1), 0)))
	case "join":
		return joinBound(args, limit)
	case "replace":
		return replaceBound(args)
	case "string":
		return formattedSize(args, 1, limit)
	case "toJSON":
		// encoding/json writes up to six bytes (\u003c) per byte of a string.
		return formattedSize(args, 6, limit)
	case "fromJSON":
		return uint(len(stringArg(args, 0)))
	case "flatten":
		return leafCount(args, limit)
	case "concat":
		var n uint
		for _, a := range args {
			n += expandedSize(a, limit)
		}
		return n
	case "uniq":
		if len(args) == 0 {
			return 0
		}
		return expandedSize(args[0], limit)
	}
	return 0
}

// workBound is an upper bound, in steps, of the work the builtin name does
// on args beyond a walk over them. Only uniq needs one: it compares every
// element with each distinct one kept so far.
func workBound(name string, args []any, limit uint) uint {
	if name != "uniq" || len(args) == 0 {
		return 0
	}
	v := reflect.ValueOf(args[0])
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return 0
	}
	n := uint(v.Len())
	distinct := map[any]struct{}{}
	for i := 0; i < v.Len() && mulSat(n, uint(len(distinct))) < limit; i++ {
		key, ok := scalarKey(v.Index(i))
		if !ok {
			// Elements that are arrays or maps: a comparison walks them.
			return mulSat(n, expandedSize(args[0], limit))
		}
		distinct[key] = struct{}{}
	}
	return mulSat(n, uint(len(distinct)))
}

// nilKey stands for nil among scalarKey's keys.
type nilKey struct{}

// scalarKey is a map key equal for two scalars exactly when expr's ==
// holds for them (1 and 1.0 are equal; NaN is equal to nothing, and a NaN
// key is unequal to every other). ok is false for anything but a scalar.
func scalarKey(v reflect.Value) (key any, ok bool) {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nilKey{}, true
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Invalid:
		return nilKey{}, true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.String:
		return v.String(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := v.Uint(); u > math.MaxInt64 {
			return u, true
		}
		return int64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f == math.Trunc(f) && math.Abs(f) < math.MaxInt64 {
			return int64(f), true
		}
		return f, true
	}
	return nil, false
}

func stringArg(args []any, i int) string {
	if i < len(args) {
		s, _ := args[i].(string)
		return s
	}
	return ""
}

func toInt(args []any, i int) (n int) {
	if i >= len(args) {
		return 0
	}
	defer func() {
		if recover() != nil {
			n = 0
		}
	}()
	return runtime.ToInt(args[i])
}

// mulSat multiplies without wrapping around.
func mulSat(a, b uint) uint {
	if a != 0 && b > ^uint(0)/a {
		return ^uint(0)
	}
	return a * b
}

func joinBound(args []any, limit uint) uint {
	if len(args) == 0 {
		return 0
	}
	glue := uint(len(stringArg(args, 1)))
	n := glue
	each := func(s any) bool {
		x, _ := s.(string)
		n += uint(len(x)) + glue
		return n < limit
	}
	switch a := args[0].(type) {
	case []string:
		for _, s := range a {
			if !each(s) {
				break
			}
		}
	case []any:
		for _, s := range a {
			if !each(s) {
				break
			}
		}
	}
	return n
}

func replaceBound(args []any) uint {
	s, old, repl := stringArg(args, 0), stringArg(args, 1), stringArg(args, 2)
	count := strings.Count(s, old)
	if old == "" {
		count = utf8.RuneCountInString(s) + 1
	}
	if len(args) > 3 {
		if n := toInt(args, 3); n >= 0 && n < count {
			count = n
		}
	}
	return uint(len(s)) + mulSat(uint(count), uint(len(repl)))
}

// formattedSize bounds the length of fmt's %v or encoding/json's indented
// output for args[0]: every value is charged its indentation and
// punctuation, and every byte of a string perByte bytes. Shared arrays are
// charged each time they appear, as the output repeats them.
func formattedSize(args []any, perByte, limit uint) uint {
	if len(args) == 0 {
		return 0
	}
	s := sizer{perByte: perByte, limit: limit}
	s.walk(reflect.ValueOf(args[0]), 0)
	return s.total
}

type sizer struct {
	total, perByte, limit uint
}

var timeType = reflect.TypeFor[time.Time]()

func (s *sizer) walk(v reflect.Value, depth uint) {
	if s.total >= s.limit {
		return
	}
	s.total += 2*depth + 4
	switch v.Kind() {
	case reflect.Invalid:
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			s.walk(v.Elem(), depth)
		}
	case reflect.String:
		s.total += s.perByte * uint(v.Len())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			s.total += 4 * uint(v.Len())
			return
		}
		for i := 0; i < v.Len() && s.total < s.limit; i++ {
			s.walk(v.Index(i), depth+1)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next() && s.total < s.limit; {
			s.walk(it.Key(), depth+1)
			s.walk(it.Value(), depth+1)
		}
	case reflect.Struct:
		s.structure(v, depth)
	default:
		s.total += 32
	}
}

func (s *sizer) structure(v reflect.Value, depth uint) {
	if v.Type() == timeType {
		s.total += 64
		return
	}
	for i := 0; i < v.NumField() && s.total < s.limit; i++ {
		s.total += uint(len(v.Type().Field(i).Name))
		s.walk(v.Field(i), depth+1)
	}
}

// leafCount bounds the length of flatten's output: the values reached
// through nested arrays, each shared array counted every time it appears.
// Arrays count too, so that the walk itself stays within limit steps.
func leafCount(args []any, limit uint) uint {
	if len(args) == 0 {
		return 0
	}
	var n uint
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				break
			}
			v = v.Elem()
		}
		n++
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return
		}
		for i := 0; i < v.Len() && n < limit; i++ {
			walk(v.Index(i))
		}
	}
	walk(reflect.ValueOf(args[0]))
	return n
}

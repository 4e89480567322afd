package metric

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
)

// results are the provider values the fuzz target and the differential
// test evaluate conditions against, picked by index.
func results(i uint8) any {
	switch i % 8 {
	case 0:
		return nil
	case 1:
		return 1.5
	case 2:
		return []float64{0.5, 2, 99}
	case 3:
		return "ab,c"
	case 4:
		return map[string]any{"ok": true, "rate": 0.97, "items": []any{"x", map[string]any{"v": "9950"}}}
	case 5:
		return []float64{}
	case 6:
		return math.NaN()
	}
	return []any{map[string]any{"value": "9901"}, map[string]any{"value": 9950.0}}
}

// plainEvalCondition evaluates a condition as Serin did before the limits:
// compiled with expr's defaults, not rewritten, run by expr.Run. Only for
// conditions the bounded evaluation finished: they stay within limits.
func plainEvalCondition(result any, condition string) (bool, error) {
	plain := func(err error) error {
		var fe *file.Error
		if errors.As(err, &fe) {
			return errors.New(fe.Message)
		}
		return err
	}
	program, err := expr.Compile(condition, expr.Env(conditionEnv{}))
	if err != nil {
		return false, plain(err)
	}
	out, err := expr.Run(program, newConditionEnv(result, newMeter(whatCondition, frozen).guards()))
	if err != nil {
		return false, plain(err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expected bool, but got %T", out)
	}
	return b, nil
}

// sameAsPlain reports how the bounded evaluation of condition differs from
// the plain one, if it does. A bounded evaluation stopped by a limit is
// not compared.
func sameAsPlain(result func() any, condition string, ok bool, err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return nil
	}
	plainOK, plainErr := plainEvalCondition(result(), condition)
	if fmt.Sprint(ok, err) != fmt.Sprint(plainOK, plainErr) {
		return fmt.Errorf("bounded: %v, %v; plain expr: %v, %v", ok, err, plainOK, plainErr)
	}
	return nil
}

// Within the limits, the rewritten program yields what plain expr yields,
// errors included, for every kind of node the rewrite touches.
func TestBoundedMatchesPlainExpr(t *testing.T) {
	conditions := []string{
		`repeat(1, 2) == ""`, `repeat("a", -1) == ""`, `join(1) == ""`, `join([1, 2]) == ""`, `"a" + 1 == "a"`,
		`result + 1 > 0`, `result + "x" == "abx"`, `concat() == []`, `concat(1) == []`, `flatten(1) == []`,
		`toJSON(result) != ""`, `string(result) != ""`, `fromJSON("{") == nil`, `fromJSON(result) == nil`,
		`replace("a") == ""`, `replace(result, "a", "b", 1) == "bb"`, `replace(result, "", "-") != ""`, `upper(1) == ""`,
		`all(result, {# > 1})`, `map(result, {#.v})[0] == "1"`, `reduce(result, #acc + #, "") == ""`, `filter(result, {#})`,
		`len(result) > 1 && sortBy(result, {#})[0] == 1`, `groupBy(result, {#}) != nil`, `result.rate + result.rate > 1`,
		`result.items[0] + result.items[1].v == "x9950"`, `let x = 1; x + "a" == ""`, `foo + 1 > 0`, `result[5] > 0`,
		`now() + duration("1h") > now()`, `-result > 0`, `"x" + result`, `[1] + [2] == [1, 2]`, `take(result, 2) == [1, 2]`,
		`sort(result) != nil`, `reverse(result)[0] == 3`, `toPairs(result) != nil`, `values(result) != nil`, `split(result, "") != nil`,
		`join(split(result, ""), ",") == "a,b"`, `toBase64(result) != ""`, `fromBase64("!!") == ""`, `min(result) < 2`,
		`median(result) > 0`, `$env.result != nil`, `result?.ok ?? false`, `1..3 == [1, 2, 3]`, `"ab" in ["ab"]`,
		`result matches "a"`, `count(result, {# > 1}) > 0`, `sum(result, {#}) > 0`, `one(result, {# == 1})`,
		`findIndex(result, {# == 2}) == 1`, `date("2020-01-01").Year() == 2020`, `type(result) == "array"`, `isNaN(result)`,
		`asInt(result) > 0`, `default(result, 1) + 1 == 2`, `if result == nil { true } else { false }`, `repeat("ab", 3)`,
		`reduce(1..3, #acc + string(#), "") == "123"`, `uniq(result) != nil`, `keys(result) != nil`, `fromPairs([["a", 1]]).a == 1`,
		`flatten(result) != nil`, `all(result, {asFloat(.value) >= 9900})`, `map(result, {# + "!"}) != nil`,
		`isNaN(A)`, `asInt(upper(foo)) > 0`, `now().Add(x) > now()`, `isNil(asInt(result) + y)`,
	}
	for _, condition := range conditions {
		for i := range uint8(8) {
			result := func() any { return results(i) }
			ok, err := EvalCondition(result(), condition)
			if diff := sameAsPlain(result, condition, ok, err); diff != nil {
				t.Errorf("%s against %#v: %v", condition, result(), diff)
			}
		}
	}
}

// FuzzEvalCondition evaluates arbitrary conditions against a few result
// shapes. Whatever the condition, the evaluation must return a bool or an
// error: a panic fails the fuzzer, and an evaluation that does not return
// stalls it (the fuzzer then reports its worker as hung). When no limit
// stopped it, it must agree with plain expr.
func FuzzEvalCondition(f *testing.F) {
	// More seeds, the hostile ones among them, are in testdata/fuzz.
	f.Add(`result[0] > 0.9`, uint8(2))
	f.Add(`all(result, {# < 100})`, uint8(2))
	f.Fuzz(func(t *testing.T, condition string, pick uint8) {
		result := func() any { return results(pick) }
		ok, err := EvalCondition(result(), condition)
		if diff := sameAsPlain(result, condition, ok, err); diff != nil {
			t.Fatal(diff)
		}
	})
}

// BenchmarkEvalCondition measures ordinary conditions, bounded (the
// controller's path, program cache included) and plain (a program compiled
// once without limits, run by expr.Run), so the cost of the limits shows.
func BenchmarkEvalCondition(b *testing.B) {
	vector := make([]float64, 100)
	for i := range vector {
		vector[i] = float64(i)
	}
	cases := []struct {
		name, condition string
		result          any
	}{
		{"index", `result[0] > 0.9`, []float64{0.95}},
		{"all-of-100", `all(result, {# < 100})`, vector},
		{"strings", `result + "!" == "ok!" && upper(result) == "OK"`, "ok"},
	}
	for _, c := range cases {
		b.Run(c.name+"/bounded", func(b *testing.B) {
			for b.Loop() {
				if ok, err := EvalCondition(c.result, c.condition); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run(c.name+"/plain", func(b *testing.B) {
			program, err := expr.Compile(c.condition, expr.Env(conditionEnv{}))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				env := newConditionEnv(c.result, guards{})
				if out, err := expr.Run(program, env); err != nil || out != true {
					b.Fatal(out, err)
				}
			}
		})
	}
}

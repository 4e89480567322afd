package metric

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// frozen is a clock that never moves, so that only the step and memory
// budgets can stop an evaluation.
func frozen() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// dag builds an array holding the same array twice, depth times over:
// small in memory, but a walk over z meets 2^depth values.
func dag(depth int) string {
	var b strings.Builder
	b.WriteString("let v0 = [1, 1]; ")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "let v%d = [v%d, v%d]; ", i, i-1, i-1)
	}
	fmt.Fprintf(&b, "let z = v%d; ", depth)
	return b.String()
}

func TestConditionLimits(t *testing.T) {
	const (
		memory = "condition exceeds the memory budget of 1000000 units"
		steps  = "condition exceeds the budget of 1000000 steps"
		nodes  = "condition exceeds the limit of 1000 nodes"
	)
	big := make([]float64, 2000)
	tests := map[string]struct {
		condition string
		result    any
		want      string
	}{
		"a string doubled in reduce":             {condition: `reduce(1..24, #acc + #acc, "xx")`, want: memory},
		"a doubled string compared":              {condition: `reduce(1..24, #acc + #acc, "xx") != ""`, want: memory},
		"a chain of let concatenations":          {condition: `let a = "xxxxxxxxxx"; let b = a+a+a+a+a+a+a+a+a+a; let c = b+b+b+b+b+b+b+b+b+b; let d = c+c+c+c+c+c+c+c+c+c; let e = d+d+d+d+d+d+d+d+d+d; let f = e+e+e+e+e+e+e+e+e+e; len(f) > 0`, want: memory},
		"a concatenation with the result":        {condition: `len(reduce(1..30, #acc + result, "")) > 0`, result: strings.Repeat("x", 40000), want: memory},
		"repeat of a repeat":                     {condition: `len(repeat(repeat("x", 10000), 1000)) > 0`, want: memory},
		"join with a long glue":                  {condition: `let s = repeat("x", 1000); len(join(split(s, ""), s)) > 0`, want: memory},
		"replace with a long replacement":        {condition: `let s = repeat("x", 2000); len(replace(s, "x", s)) > 0`, want: memory},
		"toJSON of one array shared 1000 times":  {condition: `let a = 1..1000; len(toJSON(map(1..1000, {a}))) > 0`, want: memory},
		"string of one array shared 1000 times":  {condition: `let a = 1..1000; len(string(map(1..1000, {a}))) > 0`, want: memory},
		"flatten of one array shared 1000 times": {condition: `let a = 1..1000; len(flatten(map(1..1000, {a}))) > 0`, want: memory},
		"concat of a large array":                {condition: `let a = 1..100000; len(concat(a, a, a, a, a, a, a, a, a, a, a)) > 0`, want: memory},
		"nested all over fresh ranges":           {condition: `all(1..500, {all(1..500, {all(1..500, {true})})})`, want: memory},
		"nested all over one range":              {condition: `let r = 1..500; all(r, {all(r, {all(r, {true})})})`, want: steps},
		"nested all over the result":             {condition: `all(result, {all(result, {# >= 0})})`, result: big, want: steps},
		"too many nodes":                         {condition: strings.Repeat("result > 0 && ", 400) + "true", result: 1.0, want: nodes},
		"equality of doubly shared arrays":       {condition: dag(40) + "z == z", want: memory},
		"max of doubly shared arrays":            {condition: dag(40) + "max(z) > 0", want: memory},
		"uniq of many distinct values":           {condition: "len(uniq(1..100000)) > 0", want: steps},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ok, err := evalCondition(tt.result, tt.condition, frozen)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, %v; want the error %q", ok, err, tt.want)
			}
			var le *LimitError
			if !errors.As(err, &le) {
				t.Errorf("%T is not a *LimitError", err)
			}
		})
	}
}

// A clock that moves a second at every reading passes the deadline at the
// second reading after the start.
func TestConditionDeadline(t *testing.T) {
	tests := map[string]string{
		"cheap iterations":              "all(1..1000, {# > 0})",
		"a chain of expensive builtins": "let big = 1..100000; median(big) > 0 && median(big) > 0 && median(big) > 0",
		"a chain of comparisons":        `let s = repeat("ab", 1000); s contains "c" || s contains "c" || s contains "c"`,
		"a chain of array searches":     "let a = 1..100000; 0 in a || 0 in a || 0 in a",
	}
	for name, condition := range tests {
		t.Run(name, func(t *testing.T) {
			now := frozen()
			clock := func() time.Time { now = now.Add(time.Second); return now }
			ok, err := evalCondition([]float64{1}, condition, clock)
			if err == nil || err.Error() != "condition exceeds the deadline of 1s" {
				t.Fatalf("got %v, %v; want the deadline error", ok, err)
			}
		})
	}
}

// The bounds must not change what an ordinary condition means; these
// exercise every kind of rewrite (closures, builtins, string addition).
func TestOrdinaryConditionsUnderLimits(t *testing.T) {
	tests := map[string]any{
		`result[0] > 0.9`:                                 []float64{0.95},
		`all(result, {# < 100})`:                          []float64{1, 99},
		`len(filter(result, {# > 1})) == 2`:               []float64{1, 2, 3},
		`map(result, {# * 2})[2] == 6`:                    []float64{1, 2, 3},
		`reduce(result, #acc + #, 0) == 6`:                []float64{1, 2, 3},
		`sum(result) == 6 && count(result, {# > 1}) == 2`: []float64{1, 2, 3},
		`sortBy(result, {-#})[0] == 3`:                    []float64{1, 3, 2},
		`len(groupBy(result, {# > 1})[true]) == 2`:        []float64{1, 3, 2},
		`result + "!" == "ok!"`:                           "ok",
		`"a" + "b" + result == "abc"`:                     "c",
		`let x = result; x + x == "abab"`:                 "ab",
		`upper(result) == "OK" && lower("OK") == result`:  "ok",
		`repeat(result, 3) == "ababab"`:                   "ab",
		`join(split(result, ","), "-") == "a-b"`:          "a,b",
		`replace(result, "a", "xy") == "xyb"`:             "ab",
		`string(result) == "[1 2]"`:                       []float64{1, 2},
		`toJSON(result) == "[\n  1,\n  2\n]"`:             []float64{1, 2},
		`fromJSON(result).a == 1`:                         `{"a":1}`,
		`flatten([[1], [2, [3]]]) == [1, 2, 3]`:           nil,
		`concat([1], result) == [1, 2.0]`:                 []float64{2},
		`keys({"a": 1})[0] == "a" && uniq([1, 1]) == [1]`: nil,
		`now() - duration("1m") < now()`:                  nil,
		`asInt(result) + 1 == 4`:                          "3",
		`default(result, "x") + "y" == "xy"`:              nil,
	}
	for condition, result := range tests {
		t.Run(condition, func(t *testing.T) {
			ok, err := EvalCondition(result, condition)
			if err != nil || !ok {
				t.Errorf("got %v, %v; want true", ok, err)
			}
		})
	}
}

func TestEvalTimeLimits(t *testing.T) {
	_, err := EvalTime(`len(reduce(1..24, #acc + #acc, "xx")) > 0 ? now() : now()`, frozen())
	if err == nil || err.Error() != "time expression exceeds the memory budget of 1000000 units" {
		t.Errorf("got %v, want the memory budget error", err)
	}
	_, err = EvalTime(strings.Repeat("1 + ", 1000)+`1 > 0 ? now() : now()`, frozen())
	if err == nil || err.Error() != "time expression exceeds the limit of 1000 nodes" {
		t.Errorf("got %v, want the node limit error", err)
	}
}

// A limit is named even when the result is empty, where other evaluation
// errors are reported as "no data".
func TestEvaluateNamesTheLimit(t *testing.T) {
	m := v1alpha1.Metric{Name: "m", SuccessCondition: `reduce(1..24, #acc + #acc, "xx") != ""`}
	for _, result := range []any{[]float64{1}, []float64{}} {
		phase, err := Evaluate(result, m)
		if phase != v1alpha1.AnalysisPhaseError || err == nil || !strings.HasSuffix(err.Error(), "condition exceeds the memory budget of 1000000 units") {
			t.Errorf("result %v: got %s, %v", result, phase, err)
		}
	}
}

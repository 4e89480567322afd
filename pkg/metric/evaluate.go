package metric

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// EvaluateFunc judges a provider's typed result against the metric's
// successCondition and failureCondition. Providers that take their
// condition check as a dependency (so their tests can stand in for it)
// accept one; Evaluate is the implementation the controller passes.
type EvaluateFunc func(result any, m v1alpha1.Metric) (v1alpha1.AnalysisPhase, error)

var _ EvaluateFunc = Evaluate

// Evaluate judges one provider value against a metric's successCondition and
// failureCondition, with Argo Rollouts' rules:
//
//   - no condition at all: Successful;
//   - only successCondition: Failed when it is false;
//   - only failureCondition: Successful when it is false;
//   - both: Failed when failureCondition holds (even if successCondition holds
//     too), Successful when only successCondition holds, Inconclusive when
//     neither does.
//
// A condition that cannot be evaluated, or that does not yield a bool, makes
// the measurement an Error; the error says which condition failed and, when
// the provider returned nothing (nil or an empty list), says so.
func Evaluate(result any, m v1alpha1.Metric) (v1alpha1.AnalysisPhase, error) {
	success, failure := false, false
	if m.SuccessCondition != "" {
		ok, err := EvalCondition(result, m.SuccessCondition)
		if err != nil {
			return v1alpha1.AnalysisPhaseError, conditionError("successCondition", m.SuccessCondition, result, err)
		}
		success = ok
	}
	if m.FailureCondition != "" {
		ok, err := EvalCondition(result, m.FailureCondition)
		if err != nil {
			return v1alpha1.AnalysisPhaseError, conditionError("failureCondition", m.FailureCondition, result, err)
		}
		failure = ok
	}
	switch {
	case m.SuccessCondition == "" && m.FailureCondition == "":
		return v1alpha1.AnalysisPhaseSuccessful, nil
	case m.FailureCondition == "":
		failure = !success
	case m.SuccessCondition == "":
		success = !failure
	}
	switch {
	case failure:
		return v1alpha1.AnalysisPhaseFailed, nil
	case success:
		return v1alpha1.AnalysisPhaseSuccessful, nil
	default:
		return v1alpha1.AnalysisPhaseInconclusive, nil
	}
}

// conditionError explains why a condition could not be evaluated. An empty
// result is the usual cause (a query that matched no series), so that case
// gets its own wording instead of expr's index error; a limit is always named.
func conditionError(which, expression string, result any, err error) error {
	var le *LimitError
	if nilOrEmpty(result) && !errors.As(err, &le) {
		return fmt.Errorf("could not evaluate %s %q: metric result is nil or empty: no data returned from the metric provider", which, expression)
	}
	return fmt.Errorf("could not evaluate %s %q: %w", which, expression, err)
}

// conditionEnv is what a condition sees. The result is typed `any` when the
// program is compiled, so one compiled program serves every result shape
// (float64 from a Prometheus scalar, []float64 from a vector, maps from a web
// metric) and can be cached by its source text alone.
type conditionEnv struct {
	guards
	Result  any                `expr:"result"`
	AsInt   func(any) int64    `expr:"asInt"`
	AsFloat func(any) float64  `expr:"asFloat"`
	IsNaN   func(float64) bool `expr:"isNaN"`
	IsInf   func(float64) bool `expr:"isInf"`
	IsNil   func(any) bool     `expr:"isNil"`
	Default func(any, any) any `expr:"default"`
}

// EvalCondition evaluates one condition against a provider value. Pointers
// are followed, so a provider may pass *float64 and nil alike. isNil and
// default look at the result itself whatever their first argument is, as in
// Argo Rollouts (`isNil(result)`, `default(result, 0)`). The evaluation
// runs under the limits MaxConditionNodes, MaxConditionMemory,
// MaxConditionSteps and ConditionTimeout; going past one is a *LimitError.
func EvalCondition(result any, condition string) (bool, error) {
	return evalCondition(result, condition, time.Now)
}

// evalCondition is EvalCondition with the clock that the deadline is
// measured on.
func evalCondition(result any, condition string, now func() time.Time) (bool, error) {
	program, err := compiled(condition)
	if err != nil {
		return false, err
	}
	env := newConditionEnv(result, newMeter(whatCondition, now).guards())
	out, err := run(program, env, whatCondition)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expected bool, but got %T", out)
	}
	return b, nil
}

// newConditionEnv is what a condition evaluated against result sees.
func newConditionEnv(result any, g guards) conditionEnv {
	value := deref(result)
	return conditionEnv{
		guards:  g,
		Result:  value,
		AsInt:   asInt,
		AsFloat: asFloat,
		IsNaN:   math.IsNaN,
		IsInf:   func(f float64) bool { return math.IsInf(f, 0) },
		IsNil:   func(any) bool { return isNil(result) },
		Default: func(_ any, fallback any) any {
			if isNil(result) {
				return fallback
			}
			return value
		},
	}
}

// programs caches compiled conditions by their text. The set of conditions
// is bounded by the specs in the cluster; the cap only guards against a
// pathological stream of distinct expressions.
var programs = struct {
	sync.Mutex
	m map[string]*vm.Program
}{m: map[string]*vm.Program{}}

const maxCachedPrograms = 4096

func compiled(condition string) (*vm.Program, error) {
	programs.Lock()
	p, ok := programs.m[condition]
	programs.Unlock()
	if ok {
		return p, nil
	}
	p, err := compile(condition, whatCondition, conditionEnv{})
	if err != nil {
		return nil, err
	}
	programs.Lock()
	if len(programs.m) >= maxCachedPrograms {
		programs.m = map[string]*vm.Program{}
	}
	programs.m[condition] = p
	programs.Unlock()
	return p, nil
}

// timeEnv is what a range query's start and end expressions see.
type timeEnv struct {
	guards
	IsNaN func(float64) bool `expr:"isNaN"`
	IsInf func(float64) bool `expr:"isInf"`
}

// EvalTime evaluates a time expression such as `now() - duration("10m")`,
// with now() returning the given instant rather than reading the clock. It
// runs under the same limits as a condition.
func EvalTime(expression string, now time.Time) (time.Time, error) {
	program, err := compile(expression, whatTime, timeEnv{},
		expr.DisableBuiltin("now"),
		expr.Function("now", func(...any) (any, error) { return now, nil }, new(func() time.Time)),
	)
	if err != nil {
		return time.Time{}, err
	}
	env := timeEnv{
		guards: newMeter(whatTime, time.Now).guards(),
		IsNaN:  math.IsNaN,
		IsInf:  func(f float64) bool { return math.IsInf(f, 0) },
	}
	out, err := run(program, env, whatTime)
	if err != nil {
		return time.Time{}, err
	}
	t, ok := out.(time.Time)
	if !ok {
		return time.Time{}, fmt.Errorf("expected time.Time, but got %T", out)
	}
	return t, nil
}

const (
	whatCondition = "condition"
	whatTime      = "time expression"
)

// compile compiles an expression for env (conditionEnv or timeEnv) under
// MaxConditionNodes, rewritten by a bounder so that it reports to the
// meter in env's guards.
func compile(source, what string, env any, opts ...expr.Option) (*vm.Program, error) {
	opts = append([]expr.Option{expr.Env(env), expr.MaxNodes(MaxConditionNodes), expr.Patch(&bounder{})}, opts...)
	p, err := expr.Compile(source, opts...)
	if err != nil {
		return nil, plainError(err, what)
	}
	return p, nil
}

// run evaluates a compiled expression under MaxConditionMemory.
func run(program *vm.Program, env any, what string) (any, error) {
	machine := vm.VM{MemoryBudget: MaxConditionMemory}
	out, err := machine.Run(program, env)
	if err != nil {
		return nil, plainError(err, what)
	}
	return out, nil
}

// plainError drops expr's multi-line source excerpt, keeping the message
// that fits a status field. Limits that expr itself enforces come back as
// the *LimitError that names them.
func plainError(err error, what string) error {
	var le *LimitError
	if errors.As(err, &le) {
		return le
	}
	var fe *file.Error
	if !errors.As(err, &fe) {
		return err
	}
	switch {
	case strings.Contains(fe.Message, "memory budget exceeded"):
		return &LimitError{What: what, Limit: memoryLimit}
	case strings.Contains(fe.Message, "exceeds maximum allowed nodes"):
		return &LimitError{What: what, Limit: nodeLimit}
	}
	return errors.New(fe.Message)
}

// asInt converts numbers and numeric strings; anything else panics, which
// expr reports as an evaluation error.
func asInt(in any) int64 {
	if s, ok := in.(string); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			panic(err)
		}
		return n
	}
	v := reflect.ValueOf(in)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint())
	case reflect.Float32, reflect.Float64:
		return int64(v.Float())
	}
	panic(fmt.Sprintf("asInt() not supported on %T %v", in, in))
}

// asFloat converts numbers and numeric strings; anything else panics.
func asFloat(in any) float64 {
	if s, ok := in.(string); ok {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			panic(err)
		}
		return f
	}
	v := reflect.ValueOf(in)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	panic(fmt.Sprintf("asFloat() not supported on %T %v", in, in))
}

// isNil reports a nil interface or a nil pointer, map, slice or channel.
func isNil(in any) bool {
	if in == nil {
		return true
	}
	v := reflect.ValueOf(in)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface, reflect.Func:
		return v.IsNil()
	}
	return false
}

func nilOrEmpty(in any) bool {
	if isNil(in) {
		return true
	}
	v := reflect.ValueOf(deref(in))
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		return v.Len() == 0
	}
	return false
}

// deref follows a pointer to its value; nil stays nil.
func deref(in any) any {
	if isNil(in) {
		return nil
	}
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer {
		return v.Elem().Interface()
	}
	return in
}

package metric

import (
	"fmt"
	"time"

	"github.com/expr-lang/expr/vm/runtime"
)

// Conditions and time expressions are written by users and evaluated inside
// the controller, so each evaluation runs under fixed limits. An expression
// that goes past one stops at once with a *LimitError, and the measurement
// becomes an Error naming the limit.
const (
	// MaxConditionNodes caps the size of an expression's syntax tree; the
	// parser stops at the first node past it. Real conditions have tens.
	MaxConditionNodes = 1000

	// MaxConditionMemory is the memory budget of one evaluation, in units.
	// Two counters run against it. expr's VM counts one unit per element of
	// every range, array literal, map literal and sort it makes (its default
	// budget, which Argo Rollouts runs under too). Serin counts every value
	// the expression makes: a string one unit per byte, anything else one
	// unit per value reached by walking it, so an array that holds the same
	// array twice costs it twice. Walks over a value (==, in, max, toJSON,
	// ...) thus stay within the budget too. The output of repeat, join,
	// replace, string, toJSON, fromJSON, flatten, concat and uniq is counted
	// before they run, so that no single call allocates far past the budget.
	MaxConditionMemory = 1_000_000

	// MaxConditionSteps caps the iterations of all closures (all, any, map,
	// filter, reduce, sortBy, ...) of one evaluation together, nesting
	// multiplying them, plus the comparisons uniq makes. A million trivial
	// iterations take well under a second.
	MaxConditionSteps = 1_000_000

	// ConditionTimeout is the wall-clock deadline of one evaluation. The
	// clock is read every clockEvery closure iterations and before or after
	// every builtin, function call and comparison that may walk a large
	// value, so work between two readings is bounded: a few nodes, each on
	// data no larger than the memory budget allows.
	ConditionTimeout = time.Second
)

// clockEvery is how many iterations pass between two readings of the clock.
const clockEvery = 16

// LimitError reports an expression stopped by one of the limits above.
type LimitError struct {
	// What is "condition" or "time expression".
	What string
	// Limit describes the limit, for example "the memory budget of 1000000 units".
	Limit string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s exceeds %s", e.What, e.Limit)
}

var (
	nodeLimit   = fmt.Sprintf("the limit of %d nodes", MaxConditionNodes)
	memoryLimit = fmt.Sprintf("the memory budget of %d units", MaxConditionMemory)
	stepLimit   = fmt.Sprintf("the budget of %d steps", MaxConditionSteps)
	timeLimit   = fmt.Sprintf("the deadline of %v", ConditionTimeout)
)

// meter keeps the account of one evaluation. Its methods stop the
// evaluation by panicking with a *LimitError, which expr's VM recovers and
// returns as the evaluation's error.
type meter struct {
	what     string
	steps    uint
	memory   uint
	now      func() time.Time
	deadline time.Time
}

func newMeter(what string, now func() time.Time) *meter {
	return &meter{what: what, now: now, deadline: now().Add(ConditionTimeout)}
}

func (m *meter) stop(limit string) {
	panic(&LimitError{What: m.what, Limit: limit})
}

// tick counts one closure iteration.
func (m *meter) tick() bool {
	m.spend(1)
	if m.steps%clockEvery == 0 {
		m.pulse()
	}
	return true
}

// pulse stops the evaluation once its deadline has passed.
func (m *meter) pulse() bool {
	if m.now().After(m.deadline) {
		m.stop(timeLimit)
	}
	return true
}

// spend adds steps to the step account.
func (m *meter) spend(steps uint) {
	if steps > MaxConditionSteps-m.steps {
		m.stop(stepLimit)
	}
	m.steps += steps
}

// charge adds units to the memory account.
func (m *meter) charge(units uint) {
	if units > MaxConditionMemory-m.memory {
		m.stop(memoryLimit)
	}
	m.memory += units
}

// chargeValue charges a value the expression made: a string by its bytes,
// anything else by the values a walk over it meets.
func (m *meter) chargeValue(v any) bool {
	m.pulse()
	if s, ok := v.(string); ok {
		m.charge(uint(len(s)))
	} else {
		m.charge(expandedSize(v, MaxConditionMemory-m.memory+1))
	}
	return true
}

// chargeCall charges, before the builtin named by args[0] runs on args[1:],
// the size its output can reach and the work it can do.
func (m *meter) chargeCall(args ...any) any {
	m.pulse()
	if len(args) > 0 {
		name, _ := args[0].(string)
		m.charge(outputBound(name, args[1:], MaxConditionMemory-m.memory+1))
		m.spend(workBound(name, args[1:], MaxConditionSteps-m.steps+1))
	}
	return true
}

// add is the + operator for operands that may be strings: two strings are
// charged before they are joined, anything else is left to expr.
func (m *meter) add(a, b any) any {
	x, ok1 := a.(string)
	y, ok2 := b.(string)
	if !ok1 || !ok2 {
		return runtime.Add(a, b)
	}
	m.charge(uint(len(x)) + uint(len(y)))
	return x + y
}

// guards are the functions a bounded program calls; both environments
// embed them. Their names cannot be written in an expression, so users
// neither call nor shadow them.
type guards struct {
	Tick       func() bool           `expr:"·tick"`
	Pulse      func() bool           `expr:"·pulse"`
	Charge     func(any) bool        `expr:"·charge"`
	ChargeCall func(...any) any      `expr:"·chargeCall"`
	Add        func(any, any) any    `expr:"·add"`
	AddStrings func(any, any) string `expr:"·addStrings"`
}

func (m *meter) guards() guards {
	return guards{
		Tick:       m.tick,
		Pulse:      m.pulse,
		Charge:     m.chargeValue,
		ChargeCall: m.chargeCall,
		Add:        m.add,
		AddStrings: func(a, b any) string { return m.add(a, b).(string) },
	}
}

package metric

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker/nature"
)

// bounder rewrites a checked expression so that its evaluation reports to
// the run's meter through the guards:
//
//   - every closure body first calls ·tick, which counts the iteration and
//     now and then reads the clock;
//   - a builtin that makes nothing large, and a comparison (==, !=, in,
//     contains, startsWith, endsWith, matches) that may walk a large value,
//     first call ·pulse, which reads the clock;
//   - the value of a function call, of an array or map literal (unless all
//     its elements are literals) and of a builtin that can build a string,
//     array or map is passed to ·charge;
//   - a builtin whose output or work can outgrow its arguments (see
//     outputBound and workBound) is instead preceded by ·chargeCall on them;
//   - + on operands that may be strings becomes ·add or ·addStrings.
//
// Arguments and results pass through let variables, so every node keeps
// its type: overloads, type errors and results stay what they were. expr
// walks the tree children first, so nested calls are rewritten once.
type bounder struct {
	vars int
}

// Reset and ShouldRepeat make expr run the bounder in its last patching
// pass, right before the final check, so that this check sees the calls
// whose type the bounder cleared (see Visit).
func (b *bounder) Reset() {}

// ShouldRepeat asks for no further pass: the bounder rewrites once.
func (b *bounder) ShouldRepeat() bool { return false }

// cheapBuiltins make no string, array or map, or only a fixed-size one;
// some (max, median, ...) walk their arguments.
var cheapBuiltins = map[string]bool{
	"all": true, "none": true, "any": true, "one": true, "count": true, "sum": true,
	"find": true, "findIndex": true, "findLast": true, "findLastIndex": true,
	"len": true, "type": true, "abs": true, "ceil": true, "floor": true, "round": true,
	"int": true, "float": true, "trim": true, "trimPrefix": true, "trimSuffix": true,
	"indexOf": true, "lastIndexOf": true, "hasPrefix": true, "hasSuffix": true,
	"max": true, "min": true, "mean": true, "median": true, "first": true, "last": true,
	"get": true, "now": true, "duration": true, "date": true, "timezone": true,
	"bitand": true, "bitor": true, "bitxor": true, "bitnand": true, "bitnot": true,
	"bitshl": true, "bitshr": true, "bitushr": true,
}

// costlyBuiltins can make or do far more than their arguments hold;
// outputBound and workBound know each of them.
var costlyBuiltins = map[string]bool{
	"repeat": true, "join": true, "replace": true, "string": true, "toJSON": true,
	"fromJSON": true, "flatten": true, "concat": true, "uniq": true,
}

func (b *bounder) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		n.Node = &ast.SequenceNode{Nodes: []ast.Node{call("·tick"), n.Node}}
	case *ast.BuiltinNode:
		switch {
		case cheapBuiltins[n.Name]:
			pulseFirst(node)
		case costlyBuiltins[n.Name]:
			b.chargeBefore(node, n)
		default:
			b.chargeAfter(node)
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); !ok || !strings.HasPrefix(id.Value, "·") {
			b.chargeAfter(node)
		}
		// expr's checker takes a call that already has a type as checked,
		// arguments included; without its type the call is checked again
		// after the rewrite, so errors in its arguments are still reported.
		n.SetNature(nature.Nature{})
	case *ast.ArrayNode:
		if !allLiterals(n.Nodes) {
			b.chargeAfter(node)
		}
	case *ast.MapNode:
		for _, pair := range n.Pairs {
			if p, ok := pair.(*ast.PairNode); !ok || !allLiterals([]ast.Node{p.Key, p.Value}) {
				b.chargeAfter(node)
				break
			}
		}
	case *ast.BinaryNode:
		switch {
		case n.Operator == "+":
			b.add(node, n)
		case walks(n):
			pulseFirst(node)
		}
	}
}

// walks reports an operation that may walk a large string, array or map:
// in walks its right operand, contains and matches their left one, and
// the others both, which costs no more than a literal if one side is one.
func walks(n *ast.BinaryNode) bool {
	switch n.Operator {
	case "in":
		return mayBeLarge(n.Right)
	case "contains", "matches":
		return mayBeLarge(n.Left)
	case "==", "!=", "startsWith", "endsWith":
		return mayBeLarge(n.Left) && mayBeLarge(n.Right)
	}
	return false
}

// mayBeLarge reports an operand that is not a literal and may be a string,
// array or map.
func mayBeLarge(n ast.Node) bool {
	if allLiterals([]ast.Node{n}) {
		return false
	}
	switch n.Nature().Kind {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return false
	}
	return true
}

// pulseFirst turns x into `·pulse(); x`.
func pulseFirst(node *ast.Node) {
	replace(node, &ast.SequenceNode{Nodes: []ast.Node{call("·pulse"), *node}})
}

// allLiterals reports nodes that are all scalar literals: an array or map
// of them is as large as its source text, and expr folds it into a
// constant.
func allLiterals(nodes []ast.Node) bool {
	for _, n := range nodes {
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode, *ast.StringNode, *ast.BoolNode, *ast.NilNode:
		default:
			return false
		}
	}
	return true
}

// chargeAfter turns x into `let r = x; ·charge(r); r`.
func (b *bounder) chargeAfter(node *ast.Node) {
	r := b.variable()
	replace(node, &ast.VariableDeclaratorNode{
		Name:  r,
		Value: *node,
		Expr:  &ast.SequenceNode{Nodes: []ast.Node{call("·charge", ident(r)), ident(r)}},
	})
}

// chargeBefore turns f(x, y) into
// `let a = x; let b = y; ·chargeCall("f", a, b); f(a, b)`.
func (b *bounder) chargeBefore(node *ast.Node, n *ast.BuiltinNode) {
	values := n.Arguments
	names := make([]string, len(values))
	checkArgs := []ast.Node{&ast.StringNode{Value: n.Name}}
	n.Arguments = make([]ast.Node, len(values))
	for i := range values {
		names[i] = b.variable()
		checkArgs = append(checkArgs, ident(names[i]))
		n.Arguments[i] = ident(names[i])
	}
	var out ast.Node = &ast.SequenceNode{Nodes: []ast.Node{call("·chargeCall", checkArgs...), n}}
	for i := len(values) - 1; i >= 0; i-- {
		out = &ast.VariableDeclaratorNode{Name: names[i], Value: values[i], Expr: out}
	}
	replace(node, out)
}

// add routes + through the meter when both operands may be strings. Two
// string literals are left alone: expr joins them at compile time, and
// their size is the source's.
func (b *bounder) add(node *ast.Node, n *ast.BinaryNode) {
	_, leftLiteral := n.Left.(*ast.StringNode)
	_, rightLiteral := n.Right.(*ast.StringNode)
	l, r := n.Left.Nature(), n.Right.Nature()
	switch {
	case leftLiteral && rightLiteral:
	case l.Kind == reflect.String && r.Kind == reflect.String:
		replace(node, call("·addStrings", n.Left, n.Right))
	case maybeString(l) && maybeString(r):
		replace(node, call("·add", n.Left, n.Right))
	}
}

func maybeString(n *nature.Nature) bool {
	return n.Kind == reflect.String || n.Kind == reflect.Interface || n.Type == nil && !n.Nil
}

// variable names a let variable; the name cannot be written in an
// expression, so it never clashes with the user's.
func (b *bounder) variable() string {
	b.vars++
	return fmt.Sprintf("·v%d", b.vars)
}

// replace puts with in node's place, keeping its position and type so that
// enclosing rewrites still see what the node was.
func replace(node *ast.Node, with ast.Node) {
	with.SetNature(*(*node).Nature())
	ast.Patch(node, with)
}

func call(name string, args ...ast.Node) *ast.CallNode {
	return &ast.CallNode{Callee: ident(name), Arguments: args}
}

func ident(name string) *ast.IdentifierNode {
	return &ast.IdentifierNode{Value: name}
}

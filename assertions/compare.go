package assertions

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseComparison parses a comparison such as ">= 1.2", "< 14", "=1.3",
// "== 1.3", "!= 1.0" or a bare number, which means equality. White space
// around the operator is optional. Op is normalised: "==" and a bare number
// become "=".
func ParseComparison(s string) (Comparison, error) {
	src := strings.TrimSpace(s)
	fail := func(what string) (Comparison, error) {
		return Comparison{}, fmt.Errorf("invalid comparison %q: %s; write an operator (=, !=, >, >=, <, <=) and a number, as in \">= 1.2\" or \"< 14\"", src, what)
	}
	if src == "" {
		return fail("it is empty")
	}
	op, rest := splitOperator(src)
	if rest == "" {
		return fail("the number is missing")
	}
	v, err := strconv.ParseFloat(rest, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fail(fmt.Sprintf("%q is not a number", rest))
	}
	return Comparison{Source: src, Op: op, Value: v}, nil
}

// String returns the comparison as written.
func (c Comparison) String() string { return c.Source }

// Holds reports whether v satisfies the comparison. An empty Op means
// equality, as a bare number does.
func (c Comparison) Holds(v float64) bool {
	switch c.Op {
	case "", "=", "==":
		return v == c.Value
	case "!=":
		return v != c.Value
	case ">":
		return v > c.Value
	case ">=":
		return v >= c.Value
	case "<":
		return v < c.Value
	case "<=":
		return v <= c.Value
	}
	return false
}

// splitOperator splits a comparison into its operator ("=" when there is
// none; "==" is written "=") and the rest, trimmed.
func splitOperator(src string) (op, rest string) {
	// Two-character operators first, so that ">=" is not read as ">".
	for _, o := range []string{">=", "<=", "==", "!=", ">", "<", "="} {
		if strings.HasPrefix(src, o) {
			op, rest = o, strings.TrimSpace(src[len(o):])
			if op == "==" {
				op = "="
			}
			return op, rest
		}
	}
	return "=", src
}

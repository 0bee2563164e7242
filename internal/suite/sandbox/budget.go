package sandbox

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// budgetFunction names the function AddBudgetGuards wraps expressions in.
// It is not an identifier a suite can write (HCL names hold no spaces),
// so only the guards call it.
const budgetFunction = "smtpdiag budget"

// BudgetFunction is the name of the function AddBudgetGuards wraps
// expressions in, for code that reads an expression after it was guarded.
const BudgetFunction = budgetFunction

// AddBudgetGuards rewrites expr in place, after CheckSyntax accepted it,
// so that what it builds while evaluated is charged to the file's Budget:
// the key, value and condition of every for-expression and every
// interpolation and directive of every string template are wrapped in a
// call to the budget function (budgetFunction), which returns its
// argument unchanged or fails once the budget is spent. A guard covers the
// wrapped expression's source range, so that its error is positioned
// there. A failing guard also stops a template from appending anything
// more and a for-expression from copying more elements, which keeps the
// cost of a refused expression near the budget. Rewriting an expression
// twice changes nothing.
//
// The guards call the function Budget.AddFunction adds to the evaluation
// context's functions; Budget.ReplaceGuardErrors turns their errors into
// one diagnostic.
func AddBudgetGuards(expr hclsyntax.Expression) {
	hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.ForExpr:
			e.KeyExpr = budgetGuard(e.KeyExpr)
			e.ValExpr = budgetGuard(e.ValExpr)
			e.CondExpr = budgetGuard(e.CondExpr)
		case *hclsyntax.TemplateExpr:
			for i, p := range e.Parts {
				if _, literal := p.(*hclsyntax.LiteralValueExpr); !literal {
					e.Parts[i] = budgetGuard(p)
				}
			}
		}
		return nil
	})
}

// budgetGuard wraps x in a call to budgetFunction, unless it is nil or
// already one.
func budgetGuard(x hclsyntax.Expression) hclsyntax.Expression {
	if x == nil {
		return nil
	}
	if call, ok := x.(*hclsyntax.FunctionCallExpr); ok && call.Name == budgetFunction {
		return x
	}
	rng := x.Range()
	return &hclsyntax.FunctionCallExpr{
		Name:            budgetFunction,
		Args:            []hclsyntax.Expression{x},
		NameRange:       rng,
		OpenParenRange:  rng,
		CloseParenRange: rng,
	}
}

// budgetDiagnostic reports the file's expressions building more than
// maxEvalBytes, at rng. It quotes no value: the one that went over may
// be sensitive.
func budgetDiagnostic(rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Expression too large",
		Detail: fmt.Sprintf("This suite's expressions would build more than %s; here the limit was reached. "+
			"A for-expression or a string that repeats a large variable copies it each time: "+
			"refer to the variable once instead.", sizeText(maxEvalBytes)),
		Subject: rng.Ptr(),
	}
}

// errBudget is what the budget function fails with once the file's budget
// is spent; ReplaceGuardErrors turns it into budgetDiagnostic.
var errBudget = fmt.Errorf("expression too large: this suite's expressions would build more than %s", sizeText(maxEvalBytes))

// Budget counts the bytes the expressions of one suite file build while
// it is decoded, against a limit of 64 MiB: the value of every expression
// evaluated (Charge) and, through the guards of AddBudgetGuards, every
// element a for-expression builds and every value interpolated into a
// string template. A value counts the bytes of its strings plus 16 per
// value. The zero Budget is empty and ready to use; a file has one, which
// must not be copied once in use.
type Budget struct {
	used     int64
	spent    bool // used went over maxEvalBytes
	reported bool // budgetDiagnostic was returned by Report
}

// Spent reports whether the file's expressions have built more than the
// budget allows; no expression should be evaluated any more.
func (b *Budget) Spent() bool { return b.spent }

// Charge adds the size of v to the budget and reports whether the budget
// is still within its limit. Once spent, the budget stays spent.
func (b *Budget) Charge(v cty.Value) bool {
	if b.spent {
		return false
	}
	b.used += byteSize(v, maxEvalBytes-b.used+1)
	if b.used > maxEvalBytes {
		b.spent = true
	}
	return !b.spent
}

// AddFunction adds to fns the function the guards of AddBudgetGuards
// call: it charges its argument to b and returns it unchanged, marks
// included, or fails once b is spent. Its name is not an identifier, so
// that a suite cannot call it.
func (b *Budget) AddFunction(fns map[string]function.Function) {
	fns[budgetFunction] = b.function()
}

// function returns the function AddFunction adds.
func (b *Budget) function() function.Function {
	return function.New(&function.Spec{
		Description: "Charges a value to the suite's budget of built bytes and returns it.",
		Params: []function.Parameter{{
			Name:             "value",
			Type:             cty.DynamicPseudoType,
			AllowNull:        true,
			AllowUnknown:     true,
			AllowDynamicType: true,
			AllowMarked:      true,
		}},
		Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if !b.Charge(args[0]) {
				return cty.NilVal, errBudget
			}
			return args[0], nil
		},
	})
}

// Report returns the error that the file's expressions build more than
// the budget allows, positioned at rng, the first time it is called; then
// nothing, so that a file gets one such error. It quotes no value: the
// one that went over may be sensitive.
func (b *Budget) Report(rng hcl.Range) hcl.Diagnostics {
	if b.reported {
		return nil
	}
	b.reported = true
	return hcl.Diagnostics{budgetDiagnostic(rng)}
}

// ReplaceGuardErrors returns the diagnostics of an evaluation with the
// errors of failed budget guards taken out: the first one of the file
// becomes Report's error, at the guarded expression (or at rng, the range
// of the expression evaluated), placed first, and the others (a
// for-expression's guard fails once per element that remains) are
// dropped. diags itself is not modified.
func (b *Budget) ReplaceGuardErrors(diags hcl.Diagnostics, rng hcl.Range) hcl.Diagnostics {
	var report hcl.Diagnostics
	out := diags[:0:0]
	for _, diag := range diags {
		if extra, ok := diag.Extra.(hclsyntax.FunctionCallDiagExtra); ok && extra.CalledFunctionName() == budgetFunction {
			at := rng
			if diag.Subject != nil {
				at = *diag.Subject
			}
			report = append(report, b.Report(at)...)
			continue
		}
		out = append(out, diag)
	}
	if len(report) == 0 {
		return out
	}
	return append(report, out...)
}

// byteSize measures a value as valueSize does (the bytes of its strings
// plus 16 per value), but without valueSize's limits on one value, and
// stops counting once the size exceeds limit, so that measuring costs no
// more than the budget it is charged to.
func byteSize(v cty.Value, limit int64) int64 {
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return 0
	}
	size := int64(16)
	ty := v.Type()
	switch {
	case ty == cty.String:
		size += int64(len(v.AsString()))
	case ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next() && size <= limit; {
			_, e := it.Element()
			size += byteSize(e, limit-size)
		}
	}
	return size
}

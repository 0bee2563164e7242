package sandbox

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// tooManyElements reports a list or map written with more than
// maxElements elements, at the first one too many.
func tooManyElements(rng hcl.Range, what string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Too many elements",
		Detail:   fmt.Sprintf("A %s may hold at most %d elements; this is the first one too many.", what, maxElements),
		Subject:  rng.Ptr(),
	}
}

// CheckSyntax reports, after parsing, what CheckSource cannot see: number
// literals beyond float64's range (maxMagnitude), lists and maps written
// with more than 10,000 elements (maxElements), more than 64
// multiplications and divisions in the file (maxMultiplications), string
// templates with too many interpolations (maxTemplateParts,
// maxFileTemplateParts), and for-expressions that could build a value far
// larger than their source (checkForExpr). Nothing may be evaluated when
// it reports an error.
func CheckSyntax(body *hclsyntax.Body) hcl.Diagnostics {
	var diags hcl.Diagnostics
	mults := 0
	templateParts := 0
	checkNumber := func(v cty.Value, rng hcl.Range) {
		if v.Type() != cty.Number || !v.IsKnown() || v.IsNull() || numberInRange(v.AsBigFloat()) {
			return
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Number out of range",
			Detail:   "This number is out of range: " + errNumberRange + ".",
			Subject:  rng.Ptr(),
		})
	}
	// A string operand of arithmetic is converted to a number.
	checkOperand := func(e hclsyntax.Expression) {
		t, ok := e.(*hclsyntax.TemplateExpr)
		if !ok || len(t.Parts) != 1 {
			return
		}
		lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr)
		if !ok || lit.Val.Type() != cty.String || len(lit.Val.AsString()) > 400 {
			return
		}
		if n, err := cty.ParseNumberVal(lit.Val.AsString()); err == nil {
			checkNumber(n, t.SrcRange)
		}
	}
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.LiteralValueExpr:
			checkNumber(e.Val, e.SrcRange)
		case *hclsyntax.TupleConsExpr:
			if len(e.Exprs) > maxElements {
				diags = append(diags, tooManyElements(e.Exprs[maxElements].Range(), "list"))
			}
		case *hclsyntax.ObjectConsExpr:
			if len(e.Items) > maxElements {
				diags = append(diags, tooManyElements(e.Items[maxElements].KeyExpr.Range(), "map"))
			}
		case *hclsyntax.TemplateExpr:
			parts := 0
			for _, p := range e.Parts {
				if _, lit := p.(*hclsyntax.LiteralValueExpr); !lit {
					parts++
				}
			}
			if parts > maxTemplateParts {
				diags = append(diags, tooComplex(e.SrcRange, fmt.Sprintf("The string holds %d interpolations; "+
					"one string may hold at most %d.", parts, maxTemplateParts)))
			}
			before := templateParts
			templateParts += parts
			if before <= maxFileTemplateParts && templateParts > maxFileTemplateParts {
				diags = append(diags, tooComplex(e.SrcRange, fmt.Sprintf("The file holds more than %d "+
					"interpolations in strings; a suite never needs that many.", maxFileTemplateParts)))
			}
		case *hclsyntax.ForExpr:
			diags = append(diags, checkForExpr(e)...)
		case *hclsyntax.UnaryOpExpr:
			checkOperand(e.Val)
		case *hclsyntax.BinaryOpExpr:
			checkOperand(e.LHS)
			checkOperand(e.RHS)
			if e.Op == hclsyntax.OpMultiply || e.Op == hclsyntax.OpDivide {
				mults++
				if mults == maxMultiplications+1 {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Too many multiplications",
						Detail: fmt.Sprintf("The file multiplies or divides more than %d times; a suite never needs "+
							"that many, and each can make a number hundreds of digits longer.", maxMultiplications),
						Subject: e.SrcRange.Ptr(),
					})
				}
			}
		}
		return nil
	})
	return diags
}

// tooComplex reports an expression that could build a value far larger
// than its source.
func tooComplex(rng hcl.Range, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Expression too complex",
		Detail:   detail,
		Subject:  rng.Ptr(),
	}
}

// checkForExpr bounds what a for-expression can build, statically:
//
//   - no for-expression inside another one: each level multiplies the
//     iterations;
//   - the body (key, value and condition) calls no function: upper(var.s)
//     or format("%10000s...", i) would build up to 1 MiB per element;
//   - the body's source is at most maxForBodyBytes long, so one iteration
//     copies at most maxForBodyBytes of literal text plus
//     maxForBodyBytes/4 interpolated values;
//   - the collection holds no list or map written with references: a
//     list [var.s, var.s, ...] shares one string among 10,000 elements,
//     each of which the body could copy.
//
// The collection holds at most maxElements values (a variable's value and
// a function's result are measured, a list literal is limited by
// CheckSyntax). What this does not bound is a body that interpolates a
// variable other than the element, "${r}@${var.domain}": it copies the
// variable once per element, and the variable's size is only known when
// it is resolved. That is bounded when evaluated, by the guards
// AddBudgetGuards adds.
func checkForExpr(e *hclsyntax.ForExpr) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var body []hclsyntax.Expression
	for _, x := range []hclsyntax.Expression{e.KeyExpr, e.ValExpr, e.CondExpr} {
		if x != nil {
			body = append(body, x)
		}
	}
	size := 0
	for _, x := range body {
		r := x.Range()
		size += r.End.Byte - r.Start.Byte
	}
	if size > maxForBodyBytes {
		diags = append(diags, tooComplex(body[0].Range(), fmt.Sprintf("The body of this for-expression is %d bytes "+
			"long; it may be at most %d, since it is evaluated once per element.", size, maxForBodyBytes)))
	}
	for _, x := range body {
		hclsyntax.VisitAll(x, func(n hclsyntax.Node) hcl.Diagnostics {
			switch n := n.(type) {
			case *hclsyntax.ForExpr:
				diags = append(diags, tooComplex(n.SrcRange, "A for-expression may not be nested in another "+
					"one: the number of values would multiply."))
			case *hclsyntax.FunctionCallExpr:
				diags = append(diags, tooComplex(n.Range(), fmt.Sprintf("The body of a for-expression may not call "+
					"a function (here %s), which could build a large value once per element; call it on the "+
					"whole list instead, or write a template such as \"${%s}@contoso.com\".", n.Name, e.ValVar)))
			}
			return nil
		})
	}
	hclsyntax.VisitAll(e.CollExpr, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.ForExpr:
			diags = append(diags, tooComplex(n.SrcRange, "A for-expression may not be nested in another "+
				"one: the number of values would multiply."))
		case *hclsyntax.TupleConsExpr, *hclsyntax.ObjectConsExpr:
			if len(n.(hclsyntax.Expression).Variables()) > 0 {
				diags = append(diags, tooComplex(n.Range(), "A list or map written in the collection of a "+
					"for-expression may hold only fixed values, since each element is copied once per iteration; "+
					"iterate over the variable itself."))
			}
		}
		return nil
	})
	return diags
}

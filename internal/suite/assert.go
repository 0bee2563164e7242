package suite

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/smtpdiag/smtpdiag/internal/suite/sandbox"
)

// The result object of assert blocks (Terraform-test style): a condition
// refers to the check's outcome as result.<attribute>. Its type is fixed
// here, per kind of check, so that a misspelt attribute is an error with
// a suggestion when the suite is validated, before anything runs; package
// asserts builds the value from a check's result (internal/result, which
// knows nothing of cty). docs/suite-language.md documents every
// attribute, and a test holds the two together.

var (
	replyType = cty.Object(map[string]cty.Type{
		"code":     cty.Number,
		"enhanced": cty.String,
		"text":     cty.String,
		"lines":    cty.List(cty.String),
		"line":     cty.String,
		"positive": cty.Bool,
	})
	ehloReplyType = cty.Object(map[string]cty.Type{
		"extensions":      cty.List(cty.String),
		"lines":           cty.List(cty.String),
		"auth_mechanisms": cty.List(cty.String),
	})
	certificateType = cty.Object(map[string]cty.Type{
		"subject":       cty.String,
		"issuer":        cty.String,
		"dns_names":     cty.List(cty.String),
		"ip_addresses":  cty.List(cty.String),
		"serial_number": cty.String,
		"sha256":        cty.String,
		"not_before":    cty.String,
		"not_after":     cty.String,
		"days_left":     cty.Number,
	})
	lookupType = cty.Object(map[string]cty.Type{
		"name":      cty.String,
		"type":      cty.String,
		"server":    cty.String,
		"transport": cty.String,
		"rcode":     cty.String,
		"answers":   cty.List(cty.String),
		"error":     cty.String,
		"duration":  cty.Number,
	})

	smtpResultType = cty.Object(map[string]cty.Type{
		"kind":           cty.String,
		"endpoint":       cty.String,
		"target":         cty.String,
		"attempts":       cty.Number,
		"connected":      cty.Bool,
		"remote_address": cty.String,
		"local_address":  cty.String,
		"client_ip":      cty.String,
		"stopped_at":     cty.String,
		"data_sent":      cty.Bool,
		"duration":       cty.Number,
		"banner":         replyType,
		"ehlo": cty.Object(map[string]cty.Type{
			"reply":           replyType,
			"greeting":        cty.String,
			"extensions":      cty.List(cty.String),
			"lines":           cty.List(cty.String),
			"auth_mechanisms": cty.List(cty.String),
			"used_helo":       cty.Bool,
			"before_tls":      ehloReplyType,
			"after_tls":       ehloReplyType,
		}),
		"starttls": replyType,
		"tls": cty.Object(map[string]cty.Type{
			"version":      cty.Number,
			"version_name": cty.String,
			"cipher":       cty.String,
			"server_name":  cty.String,
			"verified":     cty.Bool,
			"verify_error": cty.String,
			"certificate":  certificateType,
			"chain":        cty.List(certificateType),
			// What this client presented (client_certificate).
			"client_certificate_requested": cty.Bool,
			"client_certificate":           certificateType,
		}),
		"auth":    replyType,
		"mail":    replyType,
		"rcpt":    cty.List(replyType),
		"data":    replyType,
		"message": replyType,
		"quit":    replyType,
		"steps": cty.List(cty.Object(map[string]cty.Type{
			"step":      cty.String,
			"command":   cty.String,
			"after_tls": cty.Bool,
			"reply":     replyType,
			"fault":     cty.Object(map[string]cty.Type{"kind": cty.String, "message": cty.String}),
			"start":     cty.Number,
			"duration":  cty.Number,
		})),
		"timings": cty.Object(map[string]cty.Type{
			"connect":  cty.Number,
			"banner":   cty.Number,
			"ehlo":     cty.Number,
			"starttls": cty.Number,
			"tls":      cty.Number,
			"auth":     cty.Number,
			"mail":     cty.Number,
			"rcpt":     cty.Number,
			"data":     cty.Number,
			"message":  cty.Number,
			"quit":     cty.Number,
		}),
		"lookups": cty.List(lookupType),
	})

	dnsResultType = cty.Object(map[string]cty.Type{
		"kind":     cty.String,
		"name":     cty.String,
		"type":     cty.String,
		"resolver": cty.String,
		"rcode":    cty.String,
		"records":  cty.List(cty.String),
		"error":    cty.String,
		"duration": cty.Number,
		"spf": cty.Object(map[string]cty.Type{
			"record":   cty.String,
			"includes": cty.List(cty.String),
			"error":    cty.String,
			"verdicts": cty.List(cty.Object(map[string]cty.Type{
				"ip":        cty.String,
				"result":    cty.String,
				"mechanism": cty.String,
				"reason":    cty.String,
			})),
		}),
		"dmarc": cty.Object(map[string]cty.Type{
			"record": cty.String,
			"policy": cty.String,
			"error":  cty.String,
		}),
		"ptr": cty.Object(map[string]cty.Type{
			"names":             cty.List(cty.String),
			"forward_confirmed": cty.List(cty.String),
			"error":             cty.String,
		}),
		"lookups": cty.List(lookupType),
	})
)

// ResultType is the type of result in the assert blocks of a check of
// kind "smtp" or "dns" (cty.NilType for any other kind). Package asserts
// builds values of it; docs/suite-language.md documents each attribute.
func ResultType(kind string) cty.Type {
	switch kind {
	case "smtp":
		return smtpResultType
	case "dns":
		return dnsResultType
	}
	return cty.NilType
}

// assertEval is what an assert block needs to be evaluated once its
// check has run: the file's variables, and the functions of its
// expressions (made afresh for each evaluation, with a budget of its
// own, so that checks running in parallel share nothing).
type assertEval struct {
	kind    string
	vars    cty.Value
	files   sandbox.FunctionOptions
	noCalls bool
}

// Check evaluates the assertion against result, a value of ResultType
// for the check's kind. It returns whether the condition holds, the
// error_message to report when it does not (on one line), and the
// positioned errors when the condition or the message could not be
// evaluated (then holds is false). Values of sensitive variables may be
// in the message: the caller masks it.
func (a *Assertion) Check(result cty.Value) (holds bool, message string, diags hcl.Diagnostics) {
	if a.eval == nil {
		return false, "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Assertion not decoded",
			Detail: "This assert block was not decoded by a Loader.", Subject: a.DeclRange.Ptr()}}
	}
	if want := ResultType(a.eval.kind); want != cty.NilType {
		cv, err := convert.Convert(result, want)
		if err != nil {
			return false, "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid result object",
				Detail: fmt.Sprintf("The result of this check does not fit its type: %s.", err), Subject: a.DeclRange.Ptr()}}
		}
		result = cv
	}
	var budget sandbox.Budget
	fns := map[string]function.Function{}
	if !a.eval.noCalls {
		fns = sandbox.FunctionsFor(a.eval.files)
	}
	budget.AddFunction(fns)
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": a.eval.vars, "result": result},
		Functions: fns,
	}
	evaluate := func(expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
		v, diags := expr.Value(ctx)
		diags = budget.ReplaceGuardErrors(diags, expr.Range())
		if !diags.HasErrors() && !budget.Charge(v) {
			diags = append(diags, budget.Report(expr.Range())...)
		}
		return v, diags
	}
	v, diags := evaluate(a.Condition)
	if diags.HasErrors() {
		suggestAttributes(diags, ResultType(a.eval.kind))
		return false, "", diags
	}
	v, _ = v.UnmarkDeep()
	bv, err := convert.Convert(v, cty.Bool)
	if err != nil || bv.IsNull() || !bv.IsKnown() {
		return false, "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid assert condition",
			Detail:   fmt.Sprintf("The condition must be true or false; it is %s.", valueText(v)),
			Subject:  a.Condition.Range().Ptr(),
		}}
	}
	if bv.True() {
		return true, "", nil
	}
	message = a.ErrorMessage
	if a.ErrorMessageExpr != nil {
		mv, mdiags := evaluate(a.ErrorMessageExpr)
		if mdiags.HasErrors() {
			return false, "", mdiags
		}
		mv, _ = mv.UnmarkDeep()
		sv, err := convert.Convert(mv, cty.String)
		if err != nil || sv.IsNull() || !sv.IsKnown() {
			return false, "", hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid assertion error message",
				Detail:   "error_message must be a string.",
				Subject:  a.ErrorMessageExpr.Range().Ptr(),
			}}
		}
		message = sv.AsString()
	}
	return false, strings.Join(strings.Fields(message), " "), nil
}

// checkAssertExpr evaluates an assert block's expression when the suite
// is loaded, with result unknown but of its type: a misspelt attribute
// of result, or an operation its type does not allow, is an error with
// its position (and a suggestion) before anything runs.
func (d *decoder) checkAssertExpr(expr hcl.Expression, kind string) bool {
	if d.budget.Spent() {
		return false
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": d.ctx.Variables["var"], "result": cty.UnknownVal(ResultType(kind))},
		Functions: d.ctx.Functions,
	}
	_, diags := expr.Value(ctx)
	diags = d.budget.ReplaceGuardErrors(diags, expr.Range())
	suggestAttributes(diags, ResultType(kind))
	d.add(diags...)
	return !diags.HasErrors()
}

// suggestAttributes adds to HCL's "Unsupported attribute" errors the
// closest attribute name of the result object, at any depth, which HCL
// does not suggest for objects.
func suggestAttributes(diags hcl.Diagnostics, ty cty.Type) {
	var names []string
	seen := map[string]bool{}
	var walk func(cty.Type)
	walk = func(t cty.Type) {
		switch {
		case t.IsObjectType():
			for name, at := range t.AttributeTypes() {
				if !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
				walk(at)
			}
		case t.IsListType():
			walk(t.ElementType())
		}
	}
	walk(ty)
	sort.Strings(names)
	for _, diag := range diags {
		const prefix = "This object does not have an attribute named "
		if diag.Summary != "Unsupported attribute" || !strings.HasPrefix(diag.Detail, prefix) {
			continue
		}
		given, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(diag.Detail, prefix), "."))
		if err != nil {
			continue
		}
		best, dist := "", 3
		for _, n := range names {
			if dd := levenshtein.Distance(given, n, nil); dd < dist && n != given {
				best, dist = n, dd
			}
		}
		if best != "" {
			diag.Detail += fmt.Sprintf(" Did you mean %q?", best)
		}
	}
}

// decodeAssert decodes an assert block of a check of the given kind.
func (d *decoder) decodeAssert(b *hcl.Block, kind string) *Assertion {
	content, diags := d.content(b.Body, assertSchema)
	d.add(diags...)
	condAttr, msgAttr := content.Attributes["condition"], content.Attributes["error_message"]
	if condAttr == nil || msgAttr == nil {
		return nil
	}
	a := &Assertion{Condition: condAttr.Expr, DeclRange: b.DefRange}
	if cdiags := d.checkExpr(condAttr.Expr, modeAssert); cdiags.HasErrors() {
		d.add(cdiags...)
		return nil
	}
	if sx, ok := condAttr.Expr.(hclsyntax.Expression); ok {
		sandbox.AddBudgetGuards(sx)
	}
	if !d.checkAssertExpr(condAttr.Expr, kind) {
		return nil
	}
	resultRefs := false
	for _, t := range msgAttr.Expr.Variables() {
		resultRefs = resultRefs || t.RootName() == "result"
	}
	if resultRefs {
		if mdiags := d.checkExpr(msgAttr.Expr, modeAssert); mdiags.HasErrors() {
			d.add(mdiags...)
			return nil
		}
		if sx, ok := msgAttr.Expr.(hclsyntax.Expression); ok {
			sandbox.AddBudgetGuards(sx)
		}
		if !d.checkAssertExpr(msgAttr.Expr, kind) {
			return nil
		}
		a.ErrorMessageExpr = msgAttr.Expr
	} else if msg, _, ok := d.str(msgAttr, true); ok {
		if msg == "" {
			d.errorAt(msgAttr.Expr.Range(), "Invalid assertion error message", "error_message must not be empty.")
			return nil
		}
		a.ErrorMessage = msg
	}
	a.eval = &assertEval{
		kind:    kind,
		vars:    d.ctx.Variables["var"],
		noCalls: d.noCalls,
		files: sandbox.FunctionOptions{
			Dir:   d.dir,
			Roots: d.l.opts.AllowRead,
			Mark:  externalMark,
		},
	}
	return a
}

package suite

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/smtpdiag/smtpdiag/internal/suite/sandbox"
)

// Strings that reach the wire are sent exactly as given. cty normalizes
// every string to Unicode NFC (cty.StringVal), so a password typed with a
// combining accent ("Cafe" + U+0301) would arrive as "Café" (U+00E9),
// and the server would refuse it with 535. For the attributes that go on
// the wire (passwords, tokens, user names, addresses, the message), the
// decoder works out the string from what was given, before cty touched
// it: literal text decoded from the source, variables as they were set,
// what env() and file() read. It uses that string only when it
// normalizes to the value cty computed, so that it never sends anything
// but the value the suite evaluated to, in the bytes it was given in.

// rawValue is a variable's value as given: one string, or the elements
// of a list(string).
type rawValue struct {
	s    string
	list []string
	ok   bool
}

// rawOf works out the string expr evaluates to, from what was given. ok
// is false when expr is not made of literal text, variables and the
// reads of env() and file() alone.
func (d *decoder) rawOf(expr hcl.Expression) (string, bool) {
	switch e := expr.(type) {
	case *hclsyntax.FunctionCallExpr:
		if e.Name == sandbox.BudgetFunction && len(e.Args) == 1 {
			return d.rawOf(e.Args[0])
		}
	case *hclsyntax.ParenthesesExpr:
		return d.rawOf(e.Expression)
	case *hclsyntax.TemplateWrapExpr:
		return d.rawOf(e.Wrapped)
	case *hclsyntax.TemplateExpr:
		return d.rawTemplate(e)
	case *hclsyntax.ScopeTraversalExpr:
		return d.rawVariable(e.Traversal)
	case *hclsyntax.LiteralValueExpr:
		if e.Val.Type() == cty.String && !e.Val.IsNull() {
			return e.Val.AsString(), true
		}
		if s, err := convert.Convert(e.Val, cty.String); err == nil && s.IsKnown() && !s.IsNull() {
			return s.AsString(), true
		}
	}
	return "", false
}

// rawTemplate joins the parts of a string template: literal text decoded
// from the source as HCL's scanner does (escapes in quoted strings, $${
// and %%{ everywhere), and interpolations.
func (d *decoder) rawTemplate(e *hclsyntax.TemplateExpr) (string, bool) {
	src := d.l.source(e.SrcRange.Filename)
	heredoc := e.SrcRange.Start.Byte < len(src) && src[e.SrcRange.Start.Byte] == '<'
	out := ""
	for _, part := range e.Parts {
		lit, isLit := part.(*hclsyntax.LiteralValueExpr)
		if !isLit {
			s, ok := d.rawOf(part)
			if !ok {
				return "", false
			}
			out += s
			continue
		}
		r := lit.SrcRange
		if lit.Val.Type() != cty.String || lit.Val.IsNull() || r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
			return "", false
		}
		tok := hclsyntax.Token{Type: hclsyntax.TokenQuotedLit, Bytes: src[r.Start.Byte:r.End.Byte], Range: r}
		if heredoc {
			tok.Type = hclsyntax.TokenStringLit
		}
		s, diags := hclsyntax.ParseStringLiteralToken(tok)
		if diags.HasErrors() || cty.NormalizeString(s) != lit.Val.AsString() {
			return "", false
		}
		out += s
	}
	return out, true
}

// rawVariable is the value as given of var.name or var.name[i]; numbers
// and bools as the text they interpolate as.
func (d *decoder) rawVariable(t hcl.Traversal) (string, bool) {
	if t.RootName() != "var" {
		return "", false
	}
	name, ok := traversalName(t)
	v := d.vars[name]
	if !ok || v == nil || !v.Value.IsWhollyKnown() || v.Value.IsNull() {
		return "", false
	}
	raw := d.raw[name]
	switch {
	case len(t) == 2 && v.Type == cty.String && raw.ok:
		return raw.s, true
	case len(t) == 2 && (v.Type == cty.Number || v.Type == cty.Bool):
		s, err := convert.Convert(v.Value, cty.String)
		if err != nil || !s.IsKnown() || s.IsNull() {
			return "", false
		}
		return s.AsString(), true
	case len(t) == 3 && v.Type.IsListType() && raw.ok:
		idx, isIndex := t[2].(hcl.TraverseIndex)
		if !isIndex || idx.Key.Type() != cty.Number || !idx.Key.IsKnown() || idx.Key.IsNull() {
			return "", false
		}
		i, acc := idx.Key.AsBigFloat().Int64()
		if acc != 0 || i < 0 || int(i) >= len(raw.list) {
			return "", false
		}
		return raw.list[i], true
	}
	return "", false
}

// wire returns the string expr was given as, for a value v that cty
// evaluated it to: rawOf's when it normalizes to v, else the text env()
// or file() read that normalizes to v, else v itself.
func (d *decoder) wire(expr hcl.Expression, v string) string {
	if s, ok := d.rawOf(expr); ok && cty.NormalizeString(s) == v {
		return s
	}
	if s, ok := d.rawReads[v]; ok {
		return s
	}
	return v
}

// wireList is wire for each element of a list attribute: of a list
// written out, or of a list(string) variable.
func (d *decoder) wireList(expr hcl.Expression, list []string) []string {
	out := make([]string, len(list))
	copy(out, list)
	switch e := expr.(type) {
	case *hclsyntax.TupleConsExpr:
		if len(e.Exprs) == len(list) {
			for i, x := range e.Exprs {
				out[i] = d.wire(x, list[i])
			}
			return out
		}
	case *hclsyntax.ScopeTraversalExpr:
		if name, ok := traversalName(e.Traversal); ok && e.Traversal.RootName() == "var" && len(e.Traversal) == 2 {
			if raw := d.raw[name]; raw.ok && len(raw.list) == len(list) {
				for i, s := range raw.list {
					if cty.NormalizeString(s) == list[i] {
						out[i] = s
					}
				}
				return out
			}
		}
	}
	if len(list) == 1 {
		out[0] = d.wire(expr, list[0])
		return out
	}
	for i, s := range list {
		if r, ok := d.rawReads[s]; ok {
			out[i] = r
		}
	}
	return out
}

// rawGiven records a variable's value as given: s for a string, or the
// elements of expr (a list written in HCL) for a list(string).
func (d *decoder) rawGiven(v *Variable, s string, expr hcl.Expression) {
	switch {
	case v.Type == cty.String && expr == nil:
		d.raw[v.Name] = rawValue{s: s, ok: true}
	case v.Type == cty.String:
		if r, ok := d.rawOf(expr); ok {
			d.raw[v.Name] = rawValue{s: r, ok: true}
		} else if v.Value.IsKnown() && !v.Value.IsNull() {
			if r, ok := d.rawReads[v.Value.AsString()]; ok {
				d.raw[v.Name] = rawValue{s: r, ok: true}
			}
		}
	case v.Type.IsListType() && expr != nil:
		tuple, ok := expr.(*hclsyntax.TupleConsExpr)
		if !ok {
			return
		}
		var list []string
		for _, x := range tuple.Exprs {
			r, ok := d.rawOf(x)
			if !ok {
				return
			}
			list = append(list, r)
		}
		d.raw[v.Name] = rawValue{list: list, ok: true}
	}
}

// wireMap is wire for each value of a map written out ({ "X-Test" = ... });
// the values of a map given otherwise are used as cty computed them.
func (d *decoder) wireMap(expr hcl.Expression, m map[string]string) map[string]string {
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, item := range obj.Items {
		kv, diags := item.KeyExpr.Value(d.evalContext(modeGeneral))
		if diags.HasErrors() || !kv.IsWhollyKnown() {
			continue
		}
		kv, _ = kv.UnmarkDeep()
		if kv.Type() != cty.String || kv.IsNull() {
			continue
		}
		if v, ok := m[kv.AsString()]; ok {
			out[kv.AsString()] = d.wire(item.ValueExpr, v)
		}
	}
	return out
}

// refersTo reports whether expr refers to one of the variables in names.
func (d *decoder) refersTo(expr hcl.Expression, names map[string]bool) bool {
	for _, t := range expr.Variables() {
		if name, ok := traversalName(t); ok && t.RootName() == "var" && names[name] {
			return true
		}
	}
	return false
}

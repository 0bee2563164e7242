package suite

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/internal/redact"
)

// What a diagnostic may not quote (SPEC section 4: secrets never appear in
// any output): the values of sensitive variables, the values that go into
// an auth block's password or token (or its oauth block's client_secret or
// key), and what env() and file() read. The
// decoder's own messages give their length instead (show); HCL's notes on
// the values of a failed expression see them marked (renderer.values);
// and a last pass over the file's diagnostics replaces whatever quoted
// them anyway (hideQuoted, scrub).

// secretVariables returns the names of the variables that an auth block's
// password or token, its oauth block's client_secret or key, or a dnsbl
// block's dqs_key, refers to. It reads the
// syntax only, before any value is resolved, so that the values of those
// variables are hidden from the first diagnostic on.
func secretVariables(body *hclsyntax.Body) map[string]bool {
	out := map[string]bool{}
	collect := func(attr *hclsyntax.Attribute) { addVariableRefs(out, attr) }
	for _, b := range body.Blocks {
		switch b.Type {
		case "smtp":
			for _, inner := range b.Body.Blocks {
				if inner.Type == "auth" {
					collect(inner.Body.Attributes["password"])
					collect(inner.Body.Attributes["token"])
					for _, o := range inner.Body.Blocks {
						if o.Type == "oauth" {
							collect(o.Body.Attributes["client_secret"])
							collect(o.Body.Attributes["key"])
						}
					}
				}
			}
		case "dnsbl":
			collect(b.Body.Attributes["dqs_key"])
		}
	}
	return out
}

// addVariableRefs adds to out the names of the variables attr refers to
// (var.NAME); a nil attr adds none.
func addVariableRefs(out map[string]bool, attr *hclsyntax.Attribute) {
	if attr == nil {
		return
	}
	for _, t := range attr.Expr.Variables() {
		if t.RootName() == "var" {
			if name, ok := traversalName(t); ok {
				out[name] = true
			}
		}
	}
}

// hideStrings remembers the strings of a value that may not be quoted.
func (d *decoder) hideStrings(v cty.Value, h secrecy) {
	if h == plain || !v.IsWhollyKnown() || v.IsNull() {
		return
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		if s := v.AsString(); s != "" && d.hidden[s] < h {
			d.hidden[s] = h
		}
	case ty == cty.Number:
		d.hideStrings(cty.StringVal(numberText(v.AsBigFloat())), h)
	case ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			d.hideStrings(e, h)
		}
	}
}

// hideQuoted replaces, in every diagnostic of the file, each value the
// decoder remembered as one not to quote, where a message quotes it
// ("...", as %q writes it), with its length. Replacing only the quoted
// form leaves ordinary words alone, however short the value. Each text
// is scanned once for quoted strings, which are looked up, so that the
// cost does not grow with the number of values.
func (d *decoder) hideQuoted(diags hcl.Diagnostics) {
	if len(d.hidden) == 0 {
		return
	}
	for _, diag := range diags {
		diag.Summary = d.hideQuotedIn(diag.Summary)
		diag.Detail = d.hideQuotedIn(diag.Detail)
	}
}

// hideQuotedIn is hideQuoted for one text.
func (d *decoder) hideQuotedIn(text string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '"')
		if j < 0 {
			break
		}
		i += j
		q, err := strconv.QuotedPrefix(text[i:])
		if err != nil {
			i++
			continue
		}
		if s, err := strconv.Unquote(q); err == nil {
			if h, ok := d.hidden[s]; ok {
				b.WriteString(text[last:i])
				b.WriteString(h.describe(s))
				last = i + len(q)
			}
		}
		i += len(q)
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// scrub masks secrets in diagnostic texts: the decoder never quotes them,
// but cty's function errors quote their arguments ("cannot convert "..."
// to number"). Sensitive values are masked in every diagnostic, what
// env() and file() read in those of HCL's evaluation (which carry the
// expression). Values shorter than three bytes are left alone, as in
// package redact, so as not to mangle words.
func (d *decoder) scrub(diags hcl.Diagnostics, red *redact.Redactor) {
	var reads []string
	for _, s := range d.reads {
		if len(s) >= 3 {
			reads = append(reads, s, cty.NormalizeString(s))
		}
	}
	for _, diag := range diags {
		diag.Summary = red.String(diag.Summary)
		diag.Detail = red.String(diag.Detail)
		if diag.Expression != nil && len(reads) > 0 {
			diag.Summary = redact.Replace(diag.Summary, reads, redact.Mask)
			diag.Detail = redact.Replace(diag.Detail, reads, redact.Mask)
		}
	}
}

// envDefault returns the name of the environment variable a variable's
// default reads with env("NAME"), or "".
func envDefault(def *hcl.Attribute) string {
	if def == nil {
		return ""
	}
	sx, ok := def.Expr.(hclsyntax.Expression)
	if !ok {
		return ""
	}
	name := ""
	hclsyntax.VisitAll(sx, func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || call.Name != "env" || len(call.Args) != 1 || name != "" {
			return nil
		}
		if v, diags := call.Args[0].Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			name = v.AsString()
		}
		return nil
	})
	return name
}

// unsetEnvHint says what to set when expr refers to a variable whose
// value is the "" its env() default returned because the environment
// variable is not set: `var.password comes from env("SMTP_PASSWORD"),
// and SMTP_PASSWORD is not set: set SMTP_PASSWORD or -var
// password=...`. It is "" for any other expression.
func (d *decoder) unsetEnvHint(expr hcl.Expression) string {
	for _, t := range expr.Variables() {
		if t.RootName() != "var" {
			continue
		}
		name, ok := traversalName(t)
		if !ok {
			continue
		}
		if env := d.unsetEnv[name]; env != "" {
			return fmt.Sprintf("var.%s comes from its default env(%q), and %s is not set: set %s or -var %s=...",
				name, env, env, env, name)
		}
	}
	return ""
}

package suite

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// What a diagnostic's source snippet may not show of a suite file: the
// expressions that write a secret into it (a password, a token, a client
// secret, a DQS key, or a sensitive variable's default, given as text),
// and those that write key material (a key attribute, or a variable it
// uses, holding PEM or base64 text rather than the path of a file). They
// are found in the syntax, before any value is resolved; a reference
// (var.password) or a function call (env("SMTP_PASSWORD"),
// file("relay.key")) shows no secret and stays.

// secretRanges returns the ranges of the expressions of body whose source
// a snippet may not show (see above); secret are its secretVariables.
func secretRanges(body *hclsyntax.Body, src []byte, secret map[string]bool) []hcl.Range {
	var out []hcl.Range
	add := func(attr *hclsyntax.Attribute, keyOnly bool) {
		if attr == nil || !writesValue(attr.Expr) {
			return
		}
		r := attr.Expr.Range()
		if keyOnly && !looksLikeKey(string(r.SliceBytes(src))) {
			return
		}
		out = append(out, r)
	}
	keys := keyVariables(body)
	for _, b := range body.Blocks {
		switch b.Type {
		case "smtp":
			for _, inner := range b.Body.Blocks {
				if inner.Type != "auth" {
					continue
				}
				add(inner.Body.Attributes["password"], false)
				add(inner.Body.Attributes["token"], false)
				for _, o := range inner.Body.Blocks {
					if o.Type == "oauth" {
						add(o.Body.Attributes["client_secret"], false)
						add(o.Body.Attributes["key"], true)
						add(o.Body.Attributes["certificate"], true)
					}
				}
			}
		case "dnsbl":
			add(b.Body.Attributes["dqs_key"], false)
		case "endpoint":
			add(b.Body.Attributes["client_key"], true)
			add(b.Body.Attributes["client_certificate"], true)
		case "variable":
			if len(b.Labels) != 1 {
				continue
			}
			name := b.Labels[0]
			def := b.Body.Attributes["default"]
			switch {
			case secret[name] || declaredSensitive(b.Body):
				add(def, false)
			case keys[name]:
				add(def, true)
			}
		}
	}
	return out
}

// keyVariables returns the names of the variables that a key or
// certificate attribute (client_key, client_certificate, an oauth block's
// key or certificate) refers to: their defaults are hidden when they
// hold key material.
func keyVariables(body *hclsyntax.Body) map[string]bool {
	out := map[string]bool{}
	collect := func(attr *hclsyntax.Attribute) { addVariableRefs(out, attr) }
	for _, b := range body.Blocks {
		switch b.Type {
		case "endpoint":
			collect(b.Body.Attributes["client_key"])
			collect(b.Body.Attributes["client_certificate"])
		case "smtp":
			for _, inner := range b.Body.Blocks {
				for _, o := range inner.Body.Blocks {
					if inner.Type == "auth" && o.Type == "oauth" {
						collect(o.Body.Attributes["key"])
						collect(o.Body.Attributes["certificate"])
					}
				}
			}
		}
	}
	return out
}

// declaredSensitive reports whether a variable block says sensitive =
// true in its syntax.
func declaredSensitive(body *hclsyntax.Body) bool {
	attr := body.Attributes["sensitive"]
	if attr == nil {
		return false
	}
	v, diags := attr.Expr.Value(nil)
	return !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type().FriendlyName() == "bool" && v.True()
}

// writesValue reports whether an expression may write a value into the
// file: anything but a reference or a function call.
func writesValue(expr hclsyntax.Expression) bool {
	switch expr.(type) {
	case *hclsyntax.ScopeTraversalExpr, *hclsyntax.FunctionCallExpr:
		return false
	}
	return true
}

// looksLikeKey reports whether the source of an expression may hold key
// material rather than the path of a key file: PEM armour, several lines
// (a heredoc, or "\n" escapes), or a long run of base64 without a dot.
func looksLikeKey(text string) bool {
	if strings.Contains(text, "-----") || strings.ContainsAny(text, "\r\n") || strings.Contains(text, `\n`) {
		return true
	}
	s := strings.Trim(strings.TrimSpace(text), `"`)
	return len(s) >= 40 && !strings.Contains(s, ".") && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == ""
}

// hideSecretRange returns what to show of a suite file's line that a
// secret expression (secretRanges) covers: what comes before the
// expression, and the number of bytes not shown.
func (r *renderer) hideSecretRange(filename string, line hcl.Range, src []byte) (string, bool) {
	if r.l == nil {
		return "", false
	}
	for _, s := range r.l.secretRanges[filename] {
		if !s.Overlaps(line) {
			continue
		}
		text := strings.TrimRight(string(line.SliceBytes(src)), "\r\n")
		prefix := ""
		if s.Start.Byte > line.Start.Byte {
			prefix = string(src[line.Start.Byte:s.Start.Byte])
		}
		return fmt.Sprintf("%s(%d bytes not shown: a secret)", prefix, len(text)-len(prefix)), true
	}
	return "", false
}

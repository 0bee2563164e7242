package suite

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/smtpdiag/smtpdiag/internal/suite/sandbox"
)

// sensitiveMark marks the values of sensitive variables, and of the
// variables that go into an auth block's password or token, while
// expressions are evaluated; externalMark marks what env() and file()
// read, and the variables whose defaults read it. The renderer gives only
// the length of a marked value in its "with var.x as ..." notes, and the
// decoder never quotes one in its own messages.
const (
	sensitiveMark = valueMark("sensitive")
	externalMark  = valueMark("external")
)

type valueMark string

// secrecy says whether a value may be quoted in a diagnostic: plain values
// may; values read by env() or file(), and sensitive ones, may not. The
// higher one wins where values are combined.
type secrecy int

const (
	plain secrecy = iota
	external
	sensitive
)

// secrecyOf is the secrecy of a value with the given marks.
func secrecyOf(marks cty.ValueMarks) secrecy {
	switch {
	case marks.Has(sensitiveMark):
		return sensitive
	case marks.Has(externalMark):
		return external
	}
	return plain
}

// describe names a value that may not be quoted by its length.
func (h secrecy) describe(s string) string {
	if h == external {
		return fmt.Sprintf("(value read by env() or file(), %d bytes)", len(s))
	}
	return fmt.Sprintf("(sensitive value, %d bytes)", len(s))
}

// exprMode says where an expression sits, which decides what it may refer
// to and whether it may call env().
type exprMode int

const (
	// modeGeneral: any attribute outside variable defaults; var.* only.
	modeGeneral exprMode = iota
	// modeDefault: a variable default; no references, env() allowed.
	modeDefault
	// modeAssert: an assert block; var.* and result.*.
	modeAssert
)

// decoder decodes one suite file. Every problem is appended to diags; the
// decoder goes on after errors so that one run reports as many as it can.
type decoder struct {
	l        *Loader
	filename string
	dir      string
	suite    *Suite
	// src is the file's text, for the source of a disabled check's
	// enabled expression.
	src []byte
	// paths maps each path an smtp check proves to that check's block.
	paths map[string]hcl.Range

	vars          map[string]*Variable
	varNames      []string
	decls         map[string]*variableDecl
	endpoints     map[string]*Endpoint
	endpointNames []string

	// Both contexts hold the function the guards of
	// sandbox.AddBudgetGuards call (functions).
	ctx        *hcl.EvalContext // var.* and functions, env() fails
	defaultCtx *hcl.EvalContext // functions with env(), no variables

	// budget counts what the file's expressions build.
	budget sandbox.Budget

	// noCalls is set when the file calls no function: its evaluation
	// contexts then hold none but the budget guard.
	noCalls bool

	// secretVars are the variables that go into an auth block's password
	// or token, or a dnsbl block's dqs_key (secretVariables): their values
	// are as secret as those declared sensitive.
	secretVars map[string]bool
	// hidden are the strings of values no diagnostic may quote, with
	// their secrecy (hideStrings); reads are the texts env() and file()
	// returned, which are hidden from HCL's messages too (scrub).
	hidden map[string]secrecy
	reads  []string
	// hints are sentences added to the errors about a range (errorAt):
	// what to set when a value is empty because the environment
	// variable its default reads is not set.
	hints map[hcl.Range]string
	// unsetEnv maps a variable whose value is the "" of an env() default
	// to the environment variable that is not set.
	unsetEnv map[string]string
	// raw are the variables' values as given, before cty normalized them
	// (raw.go); rawReads maps the normalized form of what env() and
	// file() returned to the text as read.
	raw      map[string]rawValue
	rawReads map[string]string
	// refusedShort are the sensitive variables whose values were refused
	// as too short to mask (refuseShort).
	refusedShort map[string]bool
	// misspelt maps a required argument missing from a body to the
	// unsupported argument whose name is close to it (content).
	misspelt map[misspeltKey]hcl.Range

	diags hcl.Diagnostics
}

func (d *decoder) add(diags ...*hcl.Diagnostic) { d.diags = append(d.diags, diags...) }

// errorAt records an error whose subject is rng, with the hint str
// recorded for rng, if any.
func (d *decoder) errorAt(rng hcl.Range, summary, detail string) {
	if hint := d.hints[rng]; hint != "" && !strings.Contains(detail, hint) {
		detail += " " + hint
	}
	d.add(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()})
}

// errorIn records an error whose subject is rng shown inside context.
func (d *decoder) errorIn(rng, context hcl.Range, summary, detail string) {
	d.add(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr(), Context: context.Ptr()})
}

// closest returns the first of names within an edit distance of two of
// given (HCL's own threshold), or "".
func closest(given string, names []string) string {
	for _, n := range names {
		if levenshtein.Distance(given, n, nil) < 3 {
			return n
		}
	}
	return ""
}

// suggestion returns ` Did you mean "x"?` when a name close to given exists.
func suggestion(given string, names []string) string {
	if n := closest(given, names); n != "" {
		return fmt.Sprintf(" Did you mean %q?", n)
	}
	return ""
}

// show quotes a value for a message, unless it may not be quoted (then it
// gives its length); a long one is cut to maxQuoted bytes.
func show(s string, h secrecy) string {
	if h != plain {
		return h.describe(s)
	}
	return quote(s)
}

// posString renders a range's start as file:line:col.
func posString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// traversalName returns the second step of var.name, endpoint.name or
// endpoint["name"].
func traversalName(t hcl.Traversal) (string, bool) {
	if len(t) < 2 {
		return "", false
	}
	switch step := t[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), true
		}
	}
	return "", false
}

// checkExpr reports, with their positions, the references and env() calls
// an expression must not contain where it sits. HCL would report most of
// them too, but without the suggestions and explanations a suite author
// needs.
func (d *decoder) checkExpr(expr hcl.Expression, mode exprMode) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if mode != modeDefault {
		if sx, ok := expr.(hclsyntax.Expression); ok {
			hclsyntax.VisitAll(sx, func(n hclsyntax.Node) hcl.Diagnostics {
				if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == "env" {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "env() is only allowed in variable defaults",
						Detail: "Read the environment in a variable's default " +
							`(variable "password" { default = env("SMTP_PASSWORD") }) and refer to it ` +
							"here as var.password. A variable can also be set directly with the " +
							"environment variable SMTPDIAG_VAR_<name>.",
						Subject: call.Range().Ptr(),
					})
				}
				return nil
			})
		}
	}
	for _, t := range expr.Variables() {
		diags = append(diags, d.checkTraversal(t, mode)...)
	}
	return diags
}

func (d *decoder) checkTraversal(t hcl.Traversal, mode exprMode) hcl.Diagnostics {
	root := t.RootName()
	rng := t.SourceRange()
	diag := func(summary, detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}}
	}
	if mode == modeDefault {
		return diag("References not allowed in a variable default",
			"A variable default is a fixed value; it may call functions such as env() and "+
				"file(), but not refer to "+root+". Combine variables where the value is used instead.")
	}
	switch root {
	case "var":
		name, ok := traversalName(t)
		if !ok {
			return diag("Invalid variable reference", "A variable is referred to as var.<name>, for example var.domain.")
		}
		if d.vars[name] == nil {
			detail := fmt.Sprintf("There is no variable named %q in this suite.", name)
			if s := suggestion(name, d.varNames); s != "" {
				detail += s
			} else {
				detail += fmt.Sprintf(` Declare it with a variable %q block.`, name)
			}
			return diag("Reference to undeclared variable", detail)
		}
		return nil
	case "endpoint":
		return diag("Endpoint reference not allowed here",
			"endpoint.<name> can only be the value of the endpoint attribute of an smtp block.")
	case "smtp":
		return diag("smtp reference not allowed here",
			`smtp["<check label>"].client_ip can only be the ip of a dnsbl block, which then looks up the IP `+
				"address the server of that smtp check saw.")
	case "result":
		if mode == modeAssert {
			return nil
		}
		return diag("Result reference not allowed here",
			"result.* refers to a conversation's outcome and can only be used in an assert block's condition.")
	}
	roots := []string{"var"}
	if mode == modeAssert {
		roots = append(roots, "result")
	}
	detail := fmt.Sprintf("There is nothing named %q in this suite; references start with var. (input variables).", root)
	detail += suggestion(root, roots)
	return diag("Unknown reference", detail)
}

// eval checks and evaluates an expression. On any error, or when the value
// depends on a variable that has no value, the result is not wholly known
// and the caller skips it: the cause was already reported.
//
// What the expression builds is charged to the file's budget: its value,
// and while it is evaluated the elements of its for-expressions and the
// interpolations of its strings (sandbox.AddBudgetGuards). Once the
// budget is spent, the first expression to exceed it is reported and no
// expression is evaluated any more.
func (d *decoder) eval(expr hcl.Expression, mode exprMode) cty.Value {
	diags := d.checkExpr(expr, mode)
	d.add(diags...)
	if diags.HasErrors() || d.budget.Spent() {
		return cty.DynamicVal
	}
	if sx, ok := expr.(hclsyntax.Expression); ok {
		sandbox.AddBudgetGuards(sx)
	}
	v, diags := expr.Value(d.evalContext(mode))
	d.add(d.budget.ReplaceGuardErrors(diags, expr.Range())...)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	if !d.budget.Charge(v) {
		d.add(d.budget.Report(expr.Range())...)
		return cty.DynamicVal
	}
	return v
}

// evalContext returns the context eval evaluates an expression of mode
// in: defaultCtx for a variable default, ctx otherwise. decodeVariables
// sets both before any expression is evaluated.
func (d *decoder) evalContext(mode exprMode) *hcl.EvalContext {
	if mode == modeDefault {
		return d.defaultCtx
	}
	return d.ctx
}

// functions returns the functions of the file's expressions: those of
// sandbox.FunctionsFor, or none when the file calls none, and in either
// case the function the budget guards call. file() reads inside the suite
// file's directory tree and the Options' AllowRead directories; what
// env() and file() return is marked (externalMark) and recorded (read).
// HCL suggests a name for a misspelt function from this table.
func (d *decoder) functions(withEnv bool) map[string]function.Function {
	fns := map[string]function.Function{}
	if !d.noCalls {
		fns = sandbox.FunctionsFor(sandbox.FunctionOptions{
			Dir:          d.dir,
			Roots:        d.l.opts.AllowRead,
			Environ:      d.l.environ,
			WithEnv:      withEnv,
			UnknownUnset: d.l.opts.Validate,
			Mark:         externalMark,
			Read:         d.read,
		})
	}
	d.budget.AddFunction(fns)
	return fns
}

// read records a text env() or file() returned: it is never quoted in a
// diagnostic, and it goes on the wire as it was read.
func (d *decoder) read(text string) {
	d.reads = append(d.reads, text)
	if n := cty.NormalizeString(text); n != text {
		d.rawReads[n] = text
	}
}

// attrValue evaluates an attribute and converts it to ty. The value comes
// back unmarked with sens saying whether a sensitive variable, or what
// env() or file() read, went into it; the strings of such a value are
// remembered, so that no diagnostic quotes them (hideQuoted). ok is false
// when the value cannot be used: an error (reported), a value that
// depends on a missing variable, or null for an optional attribute (null
// means unset, as in Terraform).
func (d *decoder) attrValue(attr *hcl.Attribute, ty cty.Type, required bool) (v cty.Value, sens secrecy, ok bool) {
	v, sens, state := d.attrState(attr, ty, required)
	return v, sens, state == valueKnown
}

// valueState is what evaluating an attribute gave.
type valueState int

const (
	valueKnown   valueState = iota // a value of the type
	valueNull                      // null: as if the attribute were not set
	valueUnknown                   // not known yet (smtpdiag validate without values)
	valueInvalid                   // an error, already reported
)

// attrState is attrValue that tells a null value and an unknown one (no
// error) from an invalid one (reported).
func (d *decoder) attrState(attr *hcl.Attribute, ty cty.Type, required bool) (cty.Value, secrecy, valueState) {
	v := d.eval(attr.Expr, modeGeneral)
	if !v.IsWhollyKnown() {
		return cty.NilVal, plain, valueUnknown
	}
	v, marks := v.UnmarkDeep()
	sens := secrecyOf(marks)
	d.hideStrings(v, sens)
	if v.IsNull() {
		if required {
			d.errorAt(attr.Expr.Range(), "Invalid value", fmt.Sprintf("The argument %q is required and must not be null.", attr.Name))
			return cty.NilVal, sens, valueInvalid
		}
		return cty.NilVal, sens, valueNull
	}
	cv, err := convertValue(v, ty)
	if err != nil {
		d.errorAt(attr.Expr.Range(), "Incorrect attribute value type",
			fmt.Sprintf("Inappropriate value for attribute %q: %s.", attr.Name, convertMessage(err)))
		return cty.NilVal, sens, valueInvalid
	}
	if !cv.IsWhollyKnown() {
		return cty.NilVal, sens, valueUnknown
	}
	return cv, sens, valueKnown
}

// convertValue is convert.Convert, made linear for the tuples and objects
// suites write: cty unifies the element types of a tuple or object pair by
// pair, which takes seconds for a list of 20,000 addresses and minutes for
// 100,000.
func convertValue(v cty.Value, ty cty.Type) (cty.Value, error) {
	if !v.IsWhollyKnown() || v.IsNull() || v.ContainsMarked() {
		return convert.Convert(v, ty)
	}
	vt := v.Type()
	switch {
	case ty.IsListType() && vt.IsTupleType() && ty.ElementType() != cty.DynamicPseudoType:
		if v.LengthInt() == 0 {
			return cty.ListValEmpty(ty.ElementType()), nil
		}
		elems := make([]cty.Value, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			ce, err := convertValue(e, ty.ElementType())
			if err != nil {
				return cty.NilVal, cty.Path{cty.IndexStep{Key: k}}.NewError(err)
			}
			elems = append(elems, ce)
		}
		return cty.ListVal(elems), nil
	case ty.IsMapType() && vt.IsObjectType() && ty.ElementType() != cty.DynamicPseudoType:
		if v.LengthInt() == 0 {
			return cty.MapValEmpty(ty.ElementType()), nil
		}
		elems := make(map[string]cty.Value, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			ce, err := convertValue(e, ty.ElementType())
			if err != nil {
				return cty.NilVal, cty.Path{cty.IndexStep{Key: k}}.NewError(err)
			}
			elems[k.AsString()] = ce
		}
		return cty.MapVal(elems), nil
	}
	return convert.Convert(v, ty)
}

// convertMessage words a cty conversion error, naming the element for
// errors inside collections.
func convertMessage(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		if idx, ok := pe.Path[len(pe.Path)-1].(cty.IndexStep); ok && idx.Key.Type() == cty.Number {
			i, _ := idx.Key.AsBigFloat().Int64()
			return fmt.Sprintf("element %d: %s", i, pe.Error())
		}
		if idx, ok := pe.Path[len(pe.Path)-1].(cty.IndexStep); ok && idx.Key.Type() == cty.String {
			return fmt.Sprintf("element %q: %s", idx.Key.AsString(), pe.Error())
		}
	}
	return err.Error()
}

// str evaluates a string attribute. An empty string that comes from an
// env() default whose environment variable is not set gets a hint on
// what to set in any error about the attribute (unsetEnvHint).
func (d *decoder) str(attr *hcl.Attribute, required bool) (s string, sens secrecy, ok bool) {
	v, sens, ok := d.attrValue(attr, cty.String, required)
	if !ok {
		return "", sens, false
	}
	if v.AsString() == "" {
		if hint := d.unsetEnvHint(attr.Expr); hint != "" {
			d.hints[attr.Expr.Range()] = hint
		}
	}
	return v.AsString(), sens, true
}

// boolean evaluates a bool attribute.
func (d *decoder) boolean(attr *hcl.Attribute) (b, ok bool) {
	v, _, ok := d.attrValue(attr, cty.Bool, false)
	if !ok {
		return false, false
	}
	return v.True(), true
}

// integer evaluates a whole-number attribute within [lo, hi].
func (d *decoder) integer(attr *hcl.Attribute, lo, hi int64, what string) (int, bool) {
	v, _, ok := d.attrValue(attr, cty.Number, false)
	if !ok {
		return 0, false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		d.errorAt(attr.Expr.Range(), "Invalid value", fmt.Sprintf("%s must be a whole number; got %s.", what, sandbox.SafeNumberText(bf)))
		return 0, false
	}
	if bf.Cmp(new(big.Float).SetInt64(lo)) < 0 || bf.Cmp(new(big.Float).SetInt64(hi)) > 0 {
		d.errorAt(attr.Expr.Range(), "Invalid value", fmt.Sprintf("%s must be between %d and %d; got %s.", what, lo, hi, sandbox.SafeNumberText(bf)))
		return 0, false
	}
	i, _ := bf.Int64()
	return int(i), true
}

// stringList evaluates an attribute that holds a list of strings (a single
// string is taken as a list of one), with the range of each element where
// the source spells the list out.
func (d *decoder) stringList(attr *hcl.Attribute) (list []string, ranges []hcl.Range, sens secrecy, ok bool) {
	v, sens, ok := d.attrValue(attr, cty.DynamicPseudoType, false)
	if !ok {
		return nil, nil, sens, false
	}
	if v.Type() == cty.String {
		return []string{v.AsString()}, []hcl.Range{attr.Expr.Range()}, sens, true
	}
	cv, err := convertValue(v, cty.List(cty.String))
	if err != nil {
		d.errorAt(attr.Expr.Range(), "Incorrect attribute value type",
			fmt.Sprintf("Inappropriate value for attribute %q: %s.", attr.Name, convertMessage(err)))
		return nil, nil, sens, false
	}
	for _, e := range cv.AsValueSlice() {
		if e.IsNull() {
			d.errorAt(attr.Expr.Range(), "Invalid value", fmt.Sprintf("The list %q must not contain null.", attr.Name))
			return nil, nil, sens, false
		}
		list = append(list, e.AsString())
	}
	return list, elementRanges(attr.Expr, len(list)), sens, true
}

// elementRanges returns the range of each element of a list written out in
// the source, or the whole expression's range n times.
func elementRanges(expr hcl.Expression, n int) []hcl.Range {
	out := make([]hcl.Range, n)
	tuple, ok := expr.(*hclsyntax.TupleConsExpr)
	for i := range out {
		if ok && len(tuple.Exprs) == n {
			out[i] = tuple.Exprs[i].Range()
		} else {
			out[i] = expr.Range()
		}
	}
	return out
}

// stringMap evaluates a map(string) attribute, with the range of each key
// where the source spells the map out.
func (d *decoder) stringMap(attr *hcl.Attribute) (m map[string]string, keyRanges map[string]hcl.Range, sens secrecy, ok bool) {
	v, sens, ok := d.attrValue(attr, cty.Map(cty.String), false)
	if !ok {
		return nil, nil, sens, false
	}
	m = map[string]string{}
	keyRanges = map[string]hcl.Range{}
	for k, e := range v.AsValueMap() {
		if e.IsNull() {
			d.errorAt(attr.Expr.Range(), "Invalid value", fmt.Sprintf("The value of %q in %s must not be null.", k, attr.Name))
			return nil, nil, sens, false
		}
		m[k] = e.AsString()
		keyRanges[k] = attr.Expr.Range()
	}
	if obj, isObj := attr.Expr.(*hclsyntax.ObjectConsExpr); isObj {
		for _, item := range obj.Items {
			kv, diags := item.KeyExpr.Value(d.evalContext(modeGeneral))
			if diags.HasErrors() || !kv.IsWhollyKnown() {
				continue
			}
			kv, _ = kv.UnmarkDeep()
			if kv.Type() == cty.String && !kv.IsNull() {
				keyRanges[kv.AsString()] = hcl.RangeBetween(item.KeyExpr.Range(), item.ValueExpr.Range())
			}
		}
	}
	return m, keyRanges, sens, true
}

// sortedKeys returns a map's keys in order, for stable diagnostics.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// duration evaluates a Go duration string ("500ms", "30s", "2m"). It must
// be positive, or at least zero when allowZero is set.
func (d *decoder) duration(attr *hcl.Attribute, allowZero bool) (time.Duration, bool) {
	s, _, ok := d.str(attr, false)
	if !ok {
		return 0, false
	}
	dur, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		d.errorAt(attr.Expr.Range(), "Invalid duration",
			fmt.Sprintf("%q is not a duration (%v). Write durations in Go syntax with a unit, such as \"500ms\", \"30s\" or \"2m\".",
				s, strings.TrimPrefix(err.Error(), "time: ")))
		return 0, false
	}
	switch {
	case dur < 0 || (dur == 0 && !allowZero):
		want := "greater than zero"
		if allowZero {
			want = "zero or more"
		}
		d.errorAt(attr.Expr.Range(), "Invalid duration", fmt.Sprintf("%s must be %s; got %q.", attr.Name, want, s))
		return 0, false
	}
	return dur, true
}

// duplicateBlock reports a second block of a kind that may appear once.
func (d *decoder) duplicateBlock(b, first *hcl.Block, where string) {
	d.errorAt(b.DefRange, fmt.Sprintf("Duplicate %s block", b.Type),
		fmt.Sprintf("Only one %s block is allowed %s; the first one is at %s.", b.Type, where, posString(first.DefRange)))
}

// content applies a schema to a body. HCL suggests a name for an
// unsupported argument only among the arguments not yet set; a typo of
// one that is set ("hots" next to "host") gets its suggestion here too.
// A typo of a required argument that is missing ("hots" for "host")
// makes two errors; the "Missing required argument" one is moved to the
// misspelt name, after the suggestion, which is the one to read first.
func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	content, diags := body.Content(schema)
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return content, diags
	}
	var names []string
	for _, a := range schema.Attributes {
		names = append(names, a.Name)
	}
	for _, diag := range diags {
		if diag.Summary != "Unsupported argument" || diag.Subject == nil {
			continue
		}
		for name, attr := range sb.Attributes {
			if attr.NameRange != *diag.Subject {
				continue
			}
			n := closest(name, names)
			if n == "" {
				continue
			}
			if !strings.Contains(diag.Detail, "Did you mean") {
				diag.Detail += fmt.Sprintf(" Did you mean %q?", n)
				if set := content.Attributes[n]; set != nil {
					diag.Detail += fmt.Sprintf(" It is already set at %s.", posString(set.NameRange))
				}
			}
			if content.Attributes[n] == nil {
				d.misspelt[misspeltKey{sb.MissingItemRange(), n}] = attr.NameRange
			}
		}
	}
	// Move HCL's own "Missing required argument" after the suggestion.
	var moved hcl.Diagnostics
	kept := diags[:0]
	for _, diag := range diags {
		if diag.Summary == "Missing required argument" {
			for _, a := range schema.Attributes {
				if rng, ok := d.misspelt[misspeltKey{sb.MissingItemRange(), a.Name}]; ok &&
					strings.Contains(diag.Detail, fmt.Sprintf("%q", a.Name)) {
					d.misspeltMissing(diag, rng)
					moved = append(moved, diag)
					break
				}
			}
			if len(moved) > 0 && moved[len(moved)-1] == diag {
				continue
			}
		}
		kept = append(kept, diag)
	}
	return content, append(kept, moved...)
}

// misspeltKey names an argument of a body: the body's MissingItemRange,
// which identifies it, and the argument's name.
type misspeltKey struct {
	body hcl.Range
	name string
}

// misspeltMissing points a "Missing required argument" error at the name
// that looks like a misspelling of the argument (rng), which the error
// about that name suggests replacing.
func (d *decoder) misspeltMissing(diag *hcl.Diagnostic, rng hcl.Range) {
	diag.Subject = rng.Ptr()
	diag.Detail += fmt.Sprintf(" The argument at %s looks like a misspelling of it.", posString(rng))
}

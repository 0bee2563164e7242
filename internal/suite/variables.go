package suite

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/smtpdiag/smtpdiag/internal/suite/sandbox"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "validation"},
	},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// variableDecl is a variable block before its value is known.
type variableDecl struct {
	v           *Variable
	typeRange   *hcl.Range
	def         *hcl.Attribute
	validations []*hcl.Block
	// external is set when the value came from a default that read it
	// with env() or file().
	external bool
	// written are the value's forms as written, for a number: "0123"
	// or "1.50" besides cty's 123 and 1.5, so that a sensitive number
	// is masked in the form it was given in.
	written []string
	// valueRange is where the value was written (a default, a -var-file
	// entry), nil when it came from outside any file.
	valueRange *hcl.Range
}

// hide reports whether the variable's value may not be quoted in a
// diagnostic, and why.
func (d *decoder) hide(decl *variableDecl) secrecy {
	switch {
	case decl.v.Sensitive || d.secretVars[decl.v.Name]:
		return sensitive
	case decl.external:
		return external
	}
	return plain
}

// The variable types a suite may declare.
var variableTypes = []cty.Type{cty.String, cty.Number, cty.Bool, cty.List(cty.String)}

// decodeVariables declares every variable, resolves each value (-var,
// -var-file, SMTPDIAG_VAR_<name>, default; highest first), builds the
// evaluation context around the values, and then runs the validation
// blocks, which may refer to any variable.
func (d *decoder) decodeVariables(blocks []*hcl.Block) {
	var decls []*variableDecl
	for _, b := range blocks {
		name := b.Labels[0]
		if first := d.vars[name]; first != nil {
			d.errorAt(b.LabelRanges[0], "Duplicate variable",
				fmt.Sprintf("A variable named %q is already declared at %s.", name, posString(first.DeclRange)))
			continue
		}
		if !d.identifierLabel(b) {
			continue
		}
		decl := d.declareVariable(b)
		d.vars[name] = decl.v
		d.decls[name] = decl
		d.varNames = append(d.varNames, name)
		d.suite.Variables = append(d.suite.Variables, decl.v)
		decls = append(decls, decl)
	}

	d.defaultCtx = &hcl.EvalContext{Functions: d.functions(true)}
	values := map[string]cty.Value{}
	for _, decl := range decls {
		d.resolveVariable(decl)
		v := decl.v.Value
		switch d.hide(decl) {
		case sensitive:
			v = v.Mark(sensitiveMark)
		case external:
			v = v.Mark(externalMark)
		}
		d.hideStrings(decl.v.Value, d.hide(decl))
		values[decl.v.Name] = v
	}
	d.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(values)},
		Functions: d.functions(false),
	}
	invalid := false
	for _, decl := range decls {
		for _, vb := range decl.validations {
			if !d.validateVariable(decl.v, vb) {
				// Reported once here; as an unknown value it raises no
				// further errors where it is used.
				values[decl.v.Name] = cty.UnknownVal(decl.v.Type)
				invalid = true
			}
		}
	}
	if invalid {
		d.ctx.Variables["var"] = cty.ObjectVal(values)
	}
}

func (d *decoder) declareVariable(b *hcl.Block) *variableDecl {
	v := &Variable{Name: b.Labels[0], DeclRange: b.DefRange, Type: cty.String, Value: cty.DynamicVal}
	decl := &variableDecl{v: v}
	content, diags := d.content(b.Body, variableSchema)
	d.add(diags...)
	if attr := content.Attributes["type"]; attr != nil {
		decl.typeRange = attr.Expr.Range().Ptr()
		ty, tdiags := typeexpr.TypeConstraint(attr.Expr)
		d.add(tdiags...)
		if !tdiags.HasErrors() {
			allowed := false
			for _, t := range variableTypes {
				allowed = allowed || ty.Equals(t)
			}
			if allowed {
				v.Type = ty
			} else {
				d.errorAt(attr.Expr.Range(), "Unsupported variable type",
					fmt.Sprintf("A variable's type is string, number, bool or list(string); got %s.", typeexpr.TypeString(ty)))
			}
		}
	}
	v.Value = cty.UnknownVal(v.Type)
	if attr := content.Attributes["description"]; attr != nil {
		// Descriptions are plain text; they may not refer to variables,
		// which are not resolved yet.
		if s, ok := d.constString(attr); ok {
			v.Description = s
		}
	}
	if attr := content.Attributes["sensitive"]; attr != nil {
		val, vdiags := attr.Expr.Value(nil)
		if vdiags.HasErrors() {
			d.errorAt(attr.Expr.Range(), "Invalid value", "sensitive must be true or false, written literally.")
		} else if bv, err := convert.Convert(val, cty.Bool); err != nil || bv.IsNull() || !bv.IsKnown() {
			d.errorAt(attr.Expr.Range(), "Invalid value", "sensitive must be true or false.")
		} else {
			v.Sensitive = bv.True()
		}
	}
	decl.def = content.Attributes["default"]
	for _, vb := range content.Blocks {
		decl.validations = append(decl.validations, vb)
	}
	return decl
}

// constString evaluates an attribute that must not refer to anything.
func (d *decoder) constString(attr *hcl.Attribute) (string, bool) {
	if len(attr.Expr.Variables()) > 0 {
		d.errorAt(attr.Expr.Variables()[0].SourceRange(), "References not allowed here",
			fmt.Sprintf("%s is plain text and cannot refer to variables.", attr.Name))
		return "", false
	}
	var fns map[string]function.Function
	if !d.noCalls {
		fns = sandbox.StandardFunctions()
	}
	val, diags := attr.Expr.Value(&hcl.EvalContext{Functions: fns})
	d.add(diags...)
	if diags.HasErrors() {
		return "", false
	}
	s, err := convert.Convert(val, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		d.errorAt(attr.Expr.Range(), "Incorrect attribute value type", fmt.Sprintf("%s must be a string.", attr.Name))
		return "", false
	}
	return s.AsString(), true
}

// typeSubject is where messages about a variable's value point: its type
// when declared, else its block.
func (decl *variableDecl) typeSubject() hcl.Range {
	if decl.typeRange != nil {
		return *decl.typeRange
	}
	return decl.v.DeclRange
}

// resolveVariable sets the variable's value from the highest-precedence
// source that has one. When loading for validate, a variable without a
// value, or whose default reads an environment variable that is not set,
// keeps an unknown value of its type: validate checks the suite without
// values, as terraform validate does.
func (d *decoder) resolveVariable(decl *variableDecl) {
	v := decl.v
	envName := EnvVarPrefix + v.Name
	if cv, ok := d.l.cliVars[v.Name]; ok {
		shown := fmt.Sprintf("-var %q", v.Name+"="+cv)
		if d.hide(decl) != plain {
			shown = fmt.Sprintf("-var %q", v.Name+"=...")
		}
		decl.written = append(decl.written, cv)
		d.setFromString(decl, cv, SourceVar, shown)
		return
	}
	if attr, ok := d.l.fileVars[v.Name]; ok {
		val, diags := attr.Expr.Value(&hcl.EvalContext{Functions: sandbox.StandardFunctions()})
		d.add(diags...)
		if diags.HasErrors() {
			return
		}
		decl.written = append(decl.written, d.l.writtenText(attr.Expr))
		d.setValue(decl, val, SourceVarFile, attr.Expr.Range().Ptr(), "the value in the variables file")
		d.rawGiven(v, "", attr.Expr)
		return
	}
	if s, ok := d.l.environ[envName]; ok {
		decl.written = append(decl.written, s)
		d.setFromString(decl, s, SourceEnv, "the environment variable "+envName)
		return
	}
	if decl.def != nil {
		val := d.eval(decl.def.Expr, modeDefault)
		if !val.IsWhollyKnown() {
			return
		}
		_, marks := val.UnmarkDeep()
		decl.external = marks.Has(externalMark)
		if !val.IsNull() {
			decl.written = append(decl.written, d.l.writtenText(decl.def.Expr))
			d.setValue(decl, val, SourceDefault, decl.def.Expr.Range().Ptr(), "the default")
			d.rawGiven(v, "", decl.def.Expr)
			if env := envDefault(decl.def); env != "" && v.Value.Type() == cty.String && v.Value.AsString() == "" {
				if _, set := d.l.environ[env]; !set {
					d.unsetEnv[v.Name] = env
				}
			}
			return
		}
	}
	if d.l.opts.Validate {
		return
	}
	d.add(&hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "No value for required variable",
		Detail: fmt.Sprintf("The variable %q has no default, so it needs a value: -var %s=VALUE, an entry "+
			"in a -var-file, or the environment variable %s.", v.Name, v.Name, envName),
		Subject: v.DeclRange.Ptr(),
	})
}

// setFromString converts a value given as text (-var, environment) to the
// variable's type. A list(string) is written as an HCL list: ["a", "b"].
func (d *decoder) setFromString(decl *variableDecl, s string, source ValueSource, shown string) {
	v := decl.v
	if !v.Type.IsListType() {
		d.setValue(decl, cty.StringVal(s), source, nil, shown)
		d.rawGiven(v, s, nil)
		return
	}
	// The value is parsed like a suite file, with the same limits.
	diags := sandbox.CheckSource([]byte(s), "-var "+v.Name, "value")
	var expr hclsyntax.Expression
	if !diags.HasErrors() {
		expr, diags = hclsyntax.ParseExpression([]byte(s), "-var "+v.Name, hcl.InitialPos)
		d.l.sources["-var "+v.Name] = []byte(s)
	}
	if diags.HasErrors() {
		d.add(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail: fmt.Sprintf("%s is not valid for variable %q (type list(string)): write the list in HCL "+
				`syntax, for example ["a@contoso.com", "b@contoso.com"].`, shown, v.Name),
			Subject: decl.typeSubject().Ptr(),
		})
		return
	}
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		d.add(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("%s is not valid for variable %q: it must be a list of fixed strings.", shown, v.Name),
			Subject:  decl.typeSubject().Ptr(),
		})
		return
	}
	d.setValue(decl, val, source, nil, shown)
	d.rawGiven(v, "", expr)
}

// setValue converts val to the variable's type and stores it. subject is
// where the value was written, nil when it came from outside any file.
func (d *decoder) setValue(decl *variableDecl, val cty.Value, source ValueSource, subject *hcl.Range, shown string) {
	v := decl.v
	val, _ = val.UnmarkDeep()
	cv, err := convertValue(val, v.Type)
	if err == nil && v.Type.IsListType() && !cv.IsNull() && cv.IsWhollyKnown() {
		for _, e := range cv.AsValueSlice() {
			if e.IsNull() {
				err = fmt.Errorf("the list must not contain null")
			}
		}
	}
	if err == nil {
		// A number beyond the limits of package sandbox, or a string
		// that arithmetic would turn into one, or a value larger than a
		// function may return.
		err = sandbox.CheckValue(cv, "value")
	}
	if err != nil {
		if subject == nil {
			subject = decl.typeSubject().Ptr()
		}
		d.add(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail: fmt.Sprintf("%s is not valid for variable %q (type %s): %s.",
				upperFirst(shown), v.Name, typeexpr.TypeString(v.Type), convertMessage(err)),
			Subject: subject,
		})
		return
	}
	v.Value = cv
	v.Source = source
	decl.valueRange = subject
	if v.Sensitive {
		d.refuseShort(decl)
	}
}

// refuseShort reports a sensitive value of one or two bytes (or a list
// element, or a number in the form it was written or in cty's): package
// redact does not mask values that short, since masking them would mask
// ordinary words and numbers too, and a secret that cannot be masked must
// not be used. Empty values have nothing to mask.
func (d *decoder) refuseShort(decl *variableDecl) {
	v := decl.v
	if !v.Value.IsWhollyKnown() || v.Value.IsNull() || v.Type == cty.Bool {
		return
	}
	var forms []string
	switch {
	case v.Type == cty.String:
		forms = []string{v.Value.AsString()}
	case v.Type == cty.Number:
		forms = append([]string{numberText(v.Value.AsBigFloat())}, decl.written...)
	case v.Type.IsListType():
		for _, e := range v.Value.AsValueSlice() {
			forms = append(forms, e.AsString())
		}
	}
	for _, f := range forms {
		if n := len(f); n > 0 && n < 3 {
			subject := decl.valueRange
			if subject == nil {
				subject = v.DeclRange.Ptr()
			}
			d.add(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Sensitive value too short to mask",
				Detail: fmt.Sprintf("The value of the sensitive variable %q (from %s) is %d bytes long: values "+
					"shorter than 3 bytes are not masked in output, since masking them would mask ordinary words "+
					"and numbers too. Use a longer value.", v.Name, describeSource(v.Source, v.Name), n),
				Subject: subject,
			})
			d.refusedShort[v.Name] = true
			return
		}
	}
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// validateVariable evaluates one validation block of v and reports
// whether the value passed it.
func (d *decoder) validateVariable(v *Variable, b *hcl.Block) bool {
	content, diags := d.content(b.Body, validationSchema)
	d.add(diags...)
	condAttr, msgAttr := content.Attributes["condition"], content.Attributes["error_message"]
	if condAttr == nil || msgAttr == nil {
		return true
	}
	msg, _, msgOK := d.str(msgAttr, true)
	if msgOK && msg == "" {
		d.errorAt(msgAttr.Expr.Range(), "Invalid validation error message", "error_message must not be empty.")
		msgOK = false
	}
	cond := d.eval(condAttr.Expr, modeGeneral)
	if !cond.IsWhollyKnown() {
		return true
	}
	cond, _ = cond.UnmarkDeep()
	bv, err := convert.Convert(cond, cty.Bool)
	if err != nil || bv.IsNull() {
		d.errorAt(condAttr.Expr.Range(), "Invalid validation condition", "The condition must be true or false.")
		return true
	}
	if bv.True() {
		return true
	}
	if !msgOK {
		return false
	}
	detail := msg
	switch env := d.unsetEnv[v.Name]; {
	case env != "":
		detail += fmt.Sprintf("\n\nThe value of var.%s came from its default, env(%q), and %s is not set: set %s or -var %s=...",
			v.Name, env, env, env, v.Name)
	case v.Source != SourceUnset:
		detail += fmt.Sprintf("\n\nThe value of var.%s came from %s.", v.Name, describeSource(v.Source, v.Name))
	}
	d.add(&hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail:   detail,
		Subject:  condAttr.Expr.Range().Ptr(),
		Context:  b.DefRange.Ptr(),
	})
	return false
}

func describeSource(s ValueSource, name string) string {
	switch s {
	case SourceVar:
		return "-var"
	case SourceVarFile:
		return "a -var-file"
	case SourceEnv:
		return EnvVarPrefix + name
	}
	return "its default"
}

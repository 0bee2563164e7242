package suite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The limits below keep a hostile or broken suite file from exhausting the
// memory, the stack or the time of the process that loads it: every one is
// checked before the work it bounds is done, and exceeding one is an
// ordinary positioned error. They are far above what a suite needs.
const (
	// maxSourceBytes bounds a suite file and a -var-file.
	maxSourceBytes = 1 << 20
	// maxReadBytes bounds what file() and ca_file read.
	maxReadBytes = 1 << 20
	// maxNesting bounds how deeply brackets, braces, parentheses, strings,
	// heredocs and interpolations nest. The parser recurses once (or more)
	// per level, and a Go stack overflow is fatal.
	maxNesting = 256
	// maxExprCost bounds the nesting levels plus the operators along one
	// path of an expression: `!!!!x`, `1+1+1...` and `a ? b : c ? ...`
	// nest as deeply as brackets do, without any bracket.
	maxExprCost = 1000
	// maxMultiplications bounds the multiplications and divisions in a
	// file: each one can add 308 decimal digits to a number, and turning
	// a number of millions of digits into text takes minutes.
	maxMultiplications = 64
	// maxStringBytes bounds a string given to or returned by a function.
	maxStringBytes = 1 << 20
	// maxValueBytes bounds the size of the arguments or of the result of
	// one function call: the bytes of its strings plus 16 per value.
	maxValueBytes = 4 << 20
	// maxElements bounds the values (nested ones included) of the
	// arguments or of the result of one function call.
	maxElements = 10000
	// maxFormatWidth bounds the width and precision of a format directive.
	maxFormatWidth = 10000
	// maxNumberDigits bounds parseint's input: a 512-bit number has at
	// most 155 decimal digits.
	maxNumberDigits = 256
	// maxTemplateParts bounds the interpolations and directives of one
	// string template, and maxFileTemplateParts those of a file: each
	// copies a value of up to maxStringBytes into the string built.
	maxTemplateParts     = 64
	maxFileTemplateParts = 2000
	// maxForBodyBytes bounds the source text of a for-expression's body
	// (its key, value and condition). With checkForExpr this bounds what
	// one iteration builds; see there for the bound on the whole result.
	maxForBodyBytes = 1024
	// maxEvalBytes bounds what the expressions of one suite file build
	// while it is evaluated: every attribute's value, every element a
	// for-expression builds and every value interpolated into a string
	// template are charged to one budget (see addBudgetGuards). A suite
	// builds kilobytes; without it, [for i in range(10000) : "${var.s}"]
	// with a 1 MiB var.s builds 10 GiB, each element within every other
	// limit.
	maxEvalBytes = 64 << 20
)

// Numbers beyond float64's range are refused: converting 1e600000000 to
// text needs 600 MB.
var (
	maxMagnitude = big.NewFloat(math.MaxFloat64)
	minMagnitude = big.NewFloat(math.SmallestNonzeroFloat64)
)

// numberInRange reports whether a number is zero or within float64's
// range in magnitude (about 4.9e-324 to 1.8e308).
func numberInRange(f *big.Float) bool {
	if f.IsInf() {
		return false
	}
	if f.Sign() == 0 {
		return true
	}
	abs := new(big.Float).Abs(f)
	return abs.Cmp(maxMagnitude) <= 0 && abs.Cmp(minMagnitude) >= 0
}

// errNumberRange is the message for a number numberInRange refuses.
const errNumberRange = "numbers are limited to the range of a float64, about 1.8e308 in magnitude"

// safeNumberText renders a number for a message without the cost of
// writing out a huge one: big.Float converts every digit to decimal even
// for Text('g', 10), which takes minutes for 1e600000000.
func safeNumberText(f *big.Float) string {
	if numberInRange(f) {
		return f.Text('f', -1)
	}
	if f.IsInf() {
		return f.String()
	}
	mant := new(big.Float)
	exp := f.MantExp(mant) // f = mant × 2^exp, 0.5 <= |mant| < 1
	m, _ := mant.Float64()
	log := math.Log10(math.Abs(m)) + float64(exp)*math.Log10(2)
	digits := math.Floor(log)
	sign := ""
	if f.Sign() < 0 {
		sign = "-"
	}
	return fmt.Sprintf("%s%.3fe%+.0f", sign, math.Pow(10, log-digits), digits)
}

// sizeText names a byte count for messages.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readRegularFile reads a regular file of at most limit bytes, for file()
// and ca_file. A device such as /dev/zero, a pipe or a socket is refused
// without reading it, since it may never end or never start.
func readRegularFile(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	switch {
	case fi.IsDir():
		return nil, errors.New("is a directory")
	case !fi.Mode().IsRegular():
		return nil, errors.New("is not a regular file (a device, pipe or socket)")
	case fi.Size() > limit:
		return nil, fmt.Errorf("is larger than %s", sizeText(limit))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	// The file may have grown since Stat: read one byte more than allowed.
	src, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if int64(len(src)) > limit {
		return nil, fmt.Errorf("is larger than %s", sizeText(limit))
	}
	return src, nil
}

// errTooLarge is returned by readSource for a file above the limit; the
// bytes read so far are returned with it.
var errTooLarge = errors.New("file too large")

// readSource reads a suite file or -var-file named on the command line.
// Unlike readRegularFile it accepts any file that can be read, such as a
// pipe from process substitution, but never reads more than
// maxSourceBytes+1 bytes.
func readSource(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxSourceBytes+1))
	if err != nil {
		return nil, err
	}
	if len(src) > maxSourceBytes {
		return src[:maxSourceBytes], errTooLarge
	}
	return src, nil
}

// tooLargeDiagnostic reports a source above maxSourceBytes, positioned at
// its start.
func tooLargeDiagnostic(filename, what string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "File too large",
		Detail: fmt.Sprintf("The %s is larger than %s, the limit for one file; split it, "+
			"or read a long message body with file().", what, sizeText(maxSourceBytes)),
		Subject: &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
	}
}

// checkSource bounds what the parser will be asked to do with src before
// it parses anything: the size, and the nesting depth and operator chains
// that would make it recurse without bound. It returns at most one
// diagnostic, positioned where the limit is exceeded.
func checkSource(src []byte, filename, what string) hcl.Diagnostics {
	if len(src) > maxSourceBytes {
		return hcl.Diagnostics{tooLargeDiagnostic(filename, what)}
	}
	offset, tooDeep, ok := scanNesting(src)
	if ok {
		return nil
	}
	pos := positionOf(src, offset)
	rng := hcl.Range{Filename: filename, Start: pos, End: pos}
	if offset < len(src) {
		_, n := utf8.DecodeRune(src[offset:])
		rng.End.Byte += n
		rng.End.Column++
	}
	if tooDeep {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Nesting too deep",
			Detail: fmt.Sprintf("Brackets, braces, parentheses, strings and interpolations nest more than %d levels "+
				"deep here; a suite never needs that many.", maxNesting),
			Subject: &rng,
		}}
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Expression too complex",
		Detail: fmt.Sprintf("The expression holds more than %d operators and nesting levels in a row here "+
			"(a chain such as 1+1+1... or !!!x); split it up.", maxExprCost),
		Subject: &rng,
	}}
}

// positionOf returns the line and column (in runes) of a byte offset.
func positionOf(src []byte, offset int) hcl.Pos {
	offset = min(offset, len(src))
	before := src[:offset]
	line := bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return hcl.Pos{Line: line, Column: utf8.RuneCount(before[lineStart:]) + 1, Byte: offset}
}

// scanFrame is one open level of the nesting scan.
type scanFrame struct {
	// kind is '[', '(' or '{' for code brackets, '$' for an interpolation
	// or template directive, '"' for a quoted template and '<' for a
	// heredoc.
	kind byte
	// ops counts the operators of the expression being scanned at this
	// level; a comma (and a newline in a body or object) starts another.
	ops int
	// directives counts the %{if} and %{for} open in a template.
	directives int
	// marker and startOfLine follow a heredoc's end.
	marker      []byte
	startOfLine bool
}

// scanNesting follows src the way HCL's scanner does (code, quoted
// templates, heredocs, interpolations, comments) and returns the offset
// where nesting exceeds maxNesting (tooDeep) or an expression exceeds
// maxExprCost; ok when neither happens. The parser recurses for each
// level and each operator of a chain, and its recursion depth is what
// this bounds: a mismatched closing bracket only makes the parser skip
// ahead, never recurse deeper.
func scanNesting(src []byte) (offset int, tooDeep, ok bool) {
	root := &scanFrame{kind: '{'}
	stack := []*scanFrame{root}
	cost := 0 // the sum over stack of ops + directives, plus 1 per frame but the root
	var prev byte
	top := func() *scanFrame { return stack[len(stack)-1] }
	push := func(kind byte) *scanFrame {
		f := &scanFrame{kind: kind}
		stack = append(stack, f)
		cost++
		return f
	}
	pop := func() {
		f := top()
		cost -= 1 + f.ops + f.directives
		stack = stack[:len(stack)-1]
	}
	addOps := func(f *scanFrame, n int) {
		f.ops += n
		cost += n
	}
	resetOps := func(f *scanFrame) {
		cost -= f.ops
		f.ops = 0
	}
	over := func() bool { return len(stack)-1 > maxNesting || cost > maxExprCost }

	// openTemplateSeq handles ${ and %{ in a template frame t at i and
	// returns the offset after the opener.
	openTemplateSeq := func(t *scanFrame, i int) int {
		directive := src[i] == '%'
		push('$')
		i += 2
		t.startOfLine = false
		if directive {
			j := i
			for j < len(src) && (src[j] == '~' || src[j] == ' ' || src[j] == '\t') {
				j++
			}
			k := j
			for k < len(src) && isIdentByte(src[k]) {
				k++
			}
			switch string(src[j:k]) {
			case "if", "for":
				t.directives++
				cost++
			case "endif", "endfor":
				if t.directives > 0 {
					t.directives--
					cost--
				}
			}
		}
		return i
	}

	for i := 0; i < len(src); {
		f := top()
		c := src[i]
		switch f.kind {
		case '"':
			switch {
			case c == '\\':
				if i+1 < len(src) && src[i+1] != '\n' && src[i+1] != '\r' {
					i += 2
				} else {
					i++
				}
			case c == '"':
				pop()
				prev = '"'
				i++
			case (c == '$' || c == '%') && i+2 < len(src) && src[i+1] == c && src[i+2] == '{':
				i += 3 // $${ and %%{ are literal
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
				i = openTemplateSeq(f, i)
				if over() {
					return i - 2, len(stack)-1 > maxNesting, false
				}
			default:
				i++
			}
			continue
		case '<':
			if f.startOfLine {
				end := bytes.IndexByte(src[i:], '\n')
				if end >= 0 && bytes.Equal(bytes.TrimSpace(src[i:i+end]), f.marker) {
					pop()
					prev = 'x'
					i += end // the newline ends the attribute in code
					continue
				}
			}
			switch {
			case c == '\n':
				f.startOfLine = true
				i++
			case (c == '$' || c == '%') && i+2 < len(src) && src[i+1] == c && src[i+2] == '{':
				f.startOfLine = false
				i += 3
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
				i = openTemplateSeq(f, i)
				if over() {
					return i - 2, len(stack)-1 > maxNesting, false
				}
			default:
				f.startOfLine = false
				i++
			}
			continue
		}

		// Code: the top level, a bracket, or an interpolation.
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '\n':
			if f.kind == '{' {
				resetOps(f)
			}
			prev = 0
			i++
			continue
		case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
			end := bytes.IndexByte(src[i:], '\n')
			if end < 0 {
				return 0, false, true
			}
			i += end
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 {
				return 0, false, true
			}
			i += 2 + end + 2
			continue
		case c == '"':
			push('"')
			i++
		case c == '<' && i+1 < len(src) && src[i+1] == '<':
			if marker, next, isHeredoc := heredocStart(src, i); isHeredoc {
				h := push('<')
				h.marker = marker
				h.startOfLine = true
				i = next
			} else {
				addOps(f, 1)
				i += 2
			}
		case c == '[':
			if prev == ']' || prev == ')' || prev == '}' || prev == '"' || prev == 'x' {
				addOps(f, 1) // an index or splat: the parser nests one more level
			}
			push('[')
			i++
		case c == '(' || c == '{':
			push(c)
			i++
		case c == ']' || c == ')':
			if f.kind == '[' || f.kind == '(' {
				pop()
			}
			i++
		case c == '}':
			// As HCL's scanner: a } closes the innermost brace or
			// interpolation, whatever brackets are still open in it.
			for j := len(stack) - 1; j > 0; j-- {
				if k := stack[j].kind; k == '{' || k == '$' {
					for len(stack) > j {
						pop()
					}
					break
				}
			}
			i++
		case c == ',':
			resetOps(f)
			i++
		case c == '=':
			if i+1 < len(src) && src[i+1] == '=' {
				addOps(f, 1)
				i += 2
			} else {
				i++
			}
		case c == '+' || c == '-' || c == '*' || c == '/' || c == '%' || c == '!' ||
			c == '<' || c == '>' || c == '&' || c == '|' || c == '?':
			addOps(f, 1)
			i++
		case c >= '0' && c <= '9':
			i = skipNumber(src, i)
		case isIdentByte(c):
			for i < len(src) && isIdentByte(src[i]) {
				i++
			}
		default:
			i++
		}
		prev = c
		if isIdentByte(c) {
			prev = 'x'
		}
		if over() {
			return start, len(stack)-1 > maxNesting, false
		}
	}
	return 0, false, true
}

// isIdentByte reports whether c can be part of an identifier or number;
// bytes of multi-byte UTF-8 sequences count, as HCL allows Unicode letters.
func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c >= 0x80
}

// skipNumber returns the offset after the number literal at i: digits,
// dots and exponents (1.5e-3).
func skipNumber(src []byte, i int) int {
	for i < len(src) {
		c := src[i]
		switch {
		case c >= '0' && c <= '9' || c == '.':
			i++
		case (c == 'e' || c == 'E') && i+1 < len(src):
			j := i + 1
			if src[j] == '+' || src[j] == '-' {
				j++
			}
			if j < len(src) && src[j] >= '0' && src[j] <= '9' {
				i = j
				continue
			}
			return i
		default:
			return i
		}
	}
	return i
}

// heredocStart recognizes <<MARKER or <<-MARKER followed by a newline at
// i, as HCL's scanner does.
func heredocStart(src []byte, i int) (marker []byte, next int, ok bool) {
	j := i + 2
	if j < len(src) && src[j] == '-' {
		j++
	}
	k := j
	if k >= len(src) || !(src[k] == '_' || src[k] >= 0x80 || src[k] >= 'a' && src[k] <= 'z' || src[k] >= 'A' && src[k] <= 'Z') {
		return nil, 0, false
	}
	for k < len(src) && isIdentByte(src[k]) {
		k++
	}
	n := k
	if n < len(src) && src[n] == '\r' {
		n++
	}
	if n >= len(src) || src[n] != '\n' {
		return nil, 0, false
	}
	return src[j:k], n + 1, true
}

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

// checkSyntax reports, after parsing, what the scan cannot see: number
// literals beyond float64's range, lists and maps written with more than
// maxElements elements, more than maxMultiplications multiplications
// and divisions in the file, string templates with too many
// interpolations, and the for-expressions checkForExpr refuses. Nothing is evaluated when it
// reports an error.
func checkSyntax(body *hclsyntax.Body) hcl.Diagnostics {
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
// checkSyntax). What this does not bound is a body that interpolates a
// variable other than the element, "${r}@${var.domain}": it copies the
// variable once per element, and the variable's size is only known when
// it is resolved. That is bounded when evaluated, by the guards
// addBudgetGuards adds.
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

// budgetFunction names the function addBudgetGuards wraps expressions in.
// It is not an identifier a suite can write (HCL names hold no spaces),
// so only the guards call it.
const budgetFunction = "smtpdiag budget"

// addBudgetGuards rewrites expr in place, after checkSyntax accepted it,
// so that what it builds while evaluated is charged to the file's budget
// of maxEvalBytes: the key, value and condition of every for-expression
// and every interpolation and directive of every string template are
// wrapped in a call to budgetFunction, which returns its argument
// unchanged or fails once the budget is spent. A guard covers the
// wrapped expression's source range, so that its error is positioned
// there. A failing guard also stops a template from appending anything
// more and a for-expression from copying more elements, which keeps the
// cost of a refused expression near the budget. Rewriting an expression
// twice changes nothing.
func addBudgetGuards(expr hclsyntax.Expression) {
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

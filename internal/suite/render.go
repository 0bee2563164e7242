package suite

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	wordwrap "github.com/mitchellh/go-wordwrap"
	"github.com/zclconf/go-cty/cty"
)

// Bounds on rendered diagnostics, so that a hostile file cannot flood a
// terminal or a CI log.
const (
	// maxDiagnosticsShown diagnostics are shown, then a count of the rest.
	maxDiagnosticsShown = 50
	// maxQuoted bytes of a quoted value or label are shown.
	maxQuoted = 200
	// maxMessageBytes bounds a summary or detail, after quotes are cut.
	maxMessageBytes = 4096
	// maxSnippetLines lines of source are shown for one diagnostic.
	maxSnippetLines = 12
	// A source line longer than maxSnippetLine bytes is cut around the
	// highlighted part.
	maxSnippetLine = 240
)

// WriteDiagnostics renders diagnostics as text with source snippets of the
// files this Loader parsed. A diagnostic with a position starts with
// "file:line:col: Error: summary", the form editors and CI problem matchers
// recognize. width 0 disables wrapping.
//
// The layout is that of HCL's diagnostic text writer, made safe for any
// input: control characters of the source and of messages are escaped,
// long quoted values and lines are cut, and after the first 50 diagnostics
// only their number is given. Each diagnostic costs time in proportion to
// its own snippet, not to the file.
func (l *Loader) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, color bool, width uint) error {
	r := &renderer{w: w, files: l.parser.Files(), lines: map[string][]int{}, width: width, color: color, l: l}
	shown := 0
	for i, diag := range diags {
		if diag == nil {
			continue
		}
		if shown == maxDiagnosticsShown {
			rest := 0
			for _, d := range diags[i:] {
				if d != nil {
					rest++
				}
			}
			noun := "problems"
			if rest == 1 {
				noun = "problem"
			}
			_, err := fmt.Fprintf(w, "... and %d more %s.\n", rest, noun)
			return err
		}
		shown++
		if err := r.write(diag); err != nil {
			return err
		}
	}
	return nil
}

// renderer writes diagnostics; lines caches the line starts of each file.
// l says which files are -var-files and which values are secret.
type renderer struct {
	w     io.Writer
	files map[string]*hcl.File
	lines map[string][]int
	width uint
	color bool
	l     *Loader
}

func (r *renderer) write(diag *hcl.Diagnostic) error {
	var buf bytes.Buffer
	var colorCode, highlightCode, resetCode string
	if r.color {
		switch diag.Severity {
		case hcl.DiagError:
			colorCode = "\x1b[31m"
		case hcl.DiagWarning:
			colorCode = "\x1b[33m"
		}
		resetCode = "\x1b[0m"
		highlightCode = "\x1b[1;4m"
	}
	severity := "Error"
	if diag.Severity == hcl.DiagWarning {
		severity = "Warning"
	}
	if diag.Subject != nil {
		fmt.Fprintf(&buf, "%s: ", sanitize(posString(*diag.Subject)))
	}
	fmt.Fprintf(&buf, "%s%s%s: %s\n\n", colorCode, severity, resetCode, message(diag.Summary))

	if diag.Subject != nil {
		r.snippet(&buf, diag, highlightCode, resetCode)
		r.values(&buf, diag)
	}
	if diag.Detail != "" {
		detail := message(diag.Detail)
		if r.width != 0 {
			detail = wordwrap.WrapString(detail, r.width)
		}
		fmt.Fprintf(&buf, "%s\n\n", detail)
	}
	_, err := r.w.Write(buf.Bytes())
	return err
}

// snippet writes the "on file line N, in block:" line and the source
// lines of the subject (and context), as HCL does: empty lines inside the
// range are skipped, the subject is highlighted.
func (r *renderer) snippet(buf *bytes.Buffer, diag *hcl.Diagnostic, highlightCode, resetCode string) {
	subject := *diag.Subject
	snipRange, highlightRange := subject, subject
	if diag.Context != nil {
		snipRange = hcl.RangeOver(snipRange, *diag.Context)
	}
	if snipRange.Empty() {
		snipRange.End.Byte++
		snipRange.End.Column++
	}
	if highlightRange.Empty() {
		highlightRange.End.Byte++
		highlightRange.End.Column++
	}
	filename := sanitize(subject.Filename)
	file := r.files[subject.Filename]
	if file == nil || file.Bytes == nil {
		fmt.Fprintf(buf, "  on %s line %d:\n  (source code not available)\n\n", filename, subject.Start.Line)
		return
	}
	contextLine := ""
	if cs, ok := file.Nav.(interface{ ContextString(offset int) string }); ok {
		if c := cs.ContextString(subject.Start.Byte); c != "" {
			contextLine = ", in " + message(c)
		}
	}
	fmt.Fprintf(buf, "  on %s line %d%s:\n", filename, subject.Start.Line, contextLine)

	src := file.Bytes
	starts := r.lineStarts(subject.Filename, src)
	// The first line that can overlap: the one before the line holding
	// the start (its end may touch the start).
	first := max(sort.SearchInts(starts, snipRange.Start.Byte+1)-2, 0)
	shown, skipped := 0, 0
	for i := first; i < len(starts); i++ {
		lineStart := starts[i]
		if lineStart > snipRange.End.Byte {
			break
		}
		lineEnd := len(src)
		if i+1 < len(starts) {
			lineEnd = starts[i+1] - 1 // the newline
			if lineEnd > lineStart && src[lineEnd-1] == '\r' {
				lineEnd--
			}
		} else if lineEnd > lineStart && src[lineEnd-1] == '\r' {
			lineEnd--
		}
		lineRange := hcl.Range{
			Filename: subject.Filename,
			Start:    hcl.Pos{Line: i + 1, Column: 1, Byte: lineStart},
			End:      hcl.Pos{Line: i + 1, Column: 1, Byte: lineEnd},
		}
		if !lineRange.Overlaps(snipRange) {
			continue
		}
		if shown == maxSnippetLines {
			skipped++
			continue
		}
		shown++
		if hidden, ok := r.hideVarFileLine(subject.Filename, i+1, lineRange.SliceBytes(src)); ok {
			fmt.Fprintf(buf, "%4d: %s\n", i+1, sanitize(hidden))
			continue
		}
		if hidden, ok := r.hideSecretRange(subject.Filename, lineRange, src); ok {
			fmt.Fprintf(buf, "%4d: %s\n", i+1, sanitize(hidden))
			continue
		}
		before, highlighted, after := lineRange.PartitionAround(highlightRange)
		if highlighted.Empty() {
			fmt.Fprintf(buf, "%4d: %s\n", i+1, sanitize(string(cutEnd(lineRange.SliceBytes(src), maxSnippetLine))))
			continue
		}
		bb, hb, ab := before.SliceBytes(src), highlighted.SliceBytes(src), after.SliceBytes(src)
		if len(bb)+len(hb)+len(ab) > maxSnippetLine {
			bb, hb, ab = cutStart(bb, 60), cutEnd(hb, 120), cutEnd(ab, 60)
		}
		fmt.Fprintf(buf, "%4d: %s%s%s%s%s\n", i+1,
			sanitize(string(bb)), highlightCode, sanitize(string(hb)), resetCode, sanitize(string(ab)))
	}
	if skipped > 0 {
		fmt.Fprintf(buf, "      (%d more lines)\n", skipped)
	}
	buf.WriteByte('\n')
}

// lineStarts returns the byte offsets at which the lines of a file start,
// computed once per file.
func (r *renderer) lineStarts(filename string, src []byte) []int {
	if starts, ok := r.lines[filename]; ok {
		return starts
	}
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	if len(src) > 0 && src[len(src)-1] == '\n' {
		starts = starts[:len(starts)-1] // no line after the last newline
	}
	r.lines[filename] = starts
	return starts
}

// values writes HCL's "with var.x as ..." lines: the values of the
// references in the expression that failed, sensitive ones left out.
func (r *renderer) values(buf *bytes.Buffer, diag *hcl.Diagnostic) {
	if diag.Expression == nil || diag.EvalContext == nil {
		return
	}
	var stmts []string
	seen := map[string]bool{}
	for _, traversal := range diag.Expression.Variables() {
		val, diags := traversal.TraverseAbs(diag.EvalContext)
		if diags.HasErrors() {
			continue
		}
		name := traversalText(traversal)
		if seen[name] {
			continue
		}
		switch {
		case !val.IsKnown():
			continue
		case val.IsMarked():
			stmts = append(stmts, name+" as "+sensitiveText(val))
		case r.secret(val):
			stmts = append(stmts, name+" as "+sensitiveText(val.Mark(sensitiveMark)))
		case val.IsNull():
			stmts = append(stmts, name+" set to null")
		default:
			stmts = append(stmts, name+" as "+valueText(val))
		}
		seen[name] = true
	}
	sort.Strings(stmts)
	for i, stmt := range stmts {
		if i == 0 {
			buf.WriteString("with ")
		} else {
			buf.WriteString("     ")
		}
		buf.WriteString(sanitize(stmt))
		if i == len(stmts)-1 {
			buf.WriteString(".\n\n")
		} else {
			buf.WriteString(",\n")
		}
	}
}

// traversalText renders a reference as HCL's diagnostic writer does.
func traversalText(t hcl.Traversal) string {
	var b strings.Builder
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteByte('.')
			b.WriteString(s.Name)
		case hcl.TraverseIndex:
			b.WriteByte('[')
			if s.Key.Type().IsPrimitiveType() {
				b.WriteString(valueText(s.Key))
			} else {
				b.WriteString("...")
			}
			b.WriteByte(']')
		}
	}
	return b.String()
}

// sensitiveText describes a marked value without quoting it: its length
// is what a user needs to tell an empty or truncated secret from the
// right one.
func sensitiveText(v cty.Value) string {
	u, marks := v.UnmarkDeep()
	h := secrecyOf(marks)
	if u.IsKnown() && !u.IsNull() && u.Type() == cty.String {
		return h.describe(u.AsString())
	}
	if h == external {
		return "(value read by env() or file())"
	}
	return "(sensitive value)"
}

// secret reports whether an unmarked value holds a string that no
// diagnostic may quote: a secret of a suite this Loader loaded (its
// sensitive values, auth secrets, what env() and file() read).
func (r *renderer) secret(v cty.Value) bool {
	if r.l == nil || len(r.l.secrets) == 0 || !v.IsWhollyKnown() || v.IsNull() {
		return false
	}
	found := false
	var walk func(cty.Value)
	walk = func(v cty.Value) {
		switch ty := v.Type(); {
		case found || v.IsNull() || !v.IsKnown():
		case ty == cty.String:
			s := v.AsString()
			for _, secret := range r.l.secrets {
				if secret != "" && (s == secret || len(secret) >= 3 && strings.Contains(s, secret)) {
					found = true
					return
				}
			}
		case ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType():
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				walk(e)
			}
		}
	}
	walk(v)
	return found
}

// varFileLine matches the start of a -var-file line that sets a value.
var varFileLine = regexp.MustCompile(`^(\s*)([A-Za-z_][A-Za-z0-9_-]*)(\s*=\s*)(.*)$`)

// hideVarFileLine returns what to show of line n of a -var-file in a
// snippet, with ok, when the line must not be shown as it is: a value is
// shown only for a variable that some loaded suite declares and none
// holds secret (sensitive, or going into an auth block). A -var-file
// holds values, not code, and one that cannot be parsed or that sets an
// undeclared (perhaps misspelt) name may hold a password in any line.
func (r *renderer) hideVarFileLine(filename string, n int, line []byte) (string, bool) {
	if r.l == nil {
		return "", false
	}
	attrs, isVarFile := r.l.varFiles[filename]
	if !isVarFile {
		return "", false
	}
	text := strings.TrimRight(string(line), "\r\n")
	trimmed := strings.TrimSpace(text)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "//") {
		return "", false
	}
	name := ""
	for _, a := range attrs {
		if a.Range.Start.Line <= n && n <= a.Range.End.Line {
			name = a.Name
			if a.Range.Start.Line != n {
				// A line inside a value written over several lines.
				if r.l.declared[name] && !r.l.hidden[name] {
					return "", false
				}
				return fmt.Sprintf("(%d bytes of the value of %s not shown)", len(text), name), true
			}
		}
	}
	m := varFileLine.FindStringSubmatch(text)
	if m == nil {
		return fmt.Sprintf("(a line of %d bytes, not shown: it may hold a secret)", len(text)), true
	}
	if name == "" {
		name = m[2]
	}
	if r.l.declared[name] && !r.l.hidden[name] {
		return "", false
	}
	why := "sensitive value"
	if !r.l.declared[name] {
		why = "value not shown: no loaded suite declares " + name
	}
	return fmt.Sprintf("%s%s%s(%s, %d bytes)", m[1], m[2], m[3], why, len(m[4])), true
}

// valueText renders a value as HCL's diagnostic writer does, with strings
// cut to maxQuoted bytes.
func valueText(v cty.Value) string {
	ty := v.Type()
	switch {
	case v.IsMarked():
		return sensitiveText(v)
	case v.IsNull():
		return "null"
	case !v.IsKnown():
		return "(not yet known)"
	case ty == cty.Bool:
		if v.True() {
			return "true"
		}
		return "false"
	case ty == cty.Number:
		return v.AsBigFloat().Text('g', 10)
	case ty == cty.String:
		return quote(v.AsString())
	case ty.IsCollectionType() || ty.IsTupleType():
		switch n := v.LengthInt(); n {
		case 0:
			return "empty " + ty.FriendlyName()
		case 1:
			return ty.FriendlyName() + " with 1 element"
		default:
			return fmt.Sprintf("%s with %d elements", ty.FriendlyName(), n)
		}
	case ty.IsObjectType():
		attrs := ty.AttributeTypes()
		switch len(attrs) {
		case 0:
			return "object with no attributes"
		case 1:
			for k := range attrs {
				return "object with 1 attribute " + quote(k)
			}
		}
		return fmt.Sprintf("object with %d attributes", len(attrs))
	}
	return ty.FriendlyName()
}

// quote quotes s as Go does, at most maxQuoted bytes of it.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	n := maxQuoted - len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	q := strconv.Quote(s[:n])
	return fmt.Sprintf("%s…\" (%d bytes)", q[:len(q)-1], len(s))
}

// cutEnd keeps the first n bytes of b (whole UTF-8 sequences), adding "…"
// when it cuts.
func cutEnd(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return append(append([]byte(nil), b[:n]...), "…"...)
}

// cutStart keeps the last n bytes of b, adding "…" before when it cuts.
func cutStart(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	i := len(b) - n
	for i < len(b) && !utf8.RuneStart(b[i]) {
		i++
	}
	return append([]byte("…"), b[i:]...)
}

// message makes a summary, detail or context line safe to print: control
// characters escaped, quoted strings longer than maxQuoted cut, and the
// whole at most maxMessageBytes.
func message(s string) string {
	s = sanitize(cutQuoted(s))
	if len(s) > maxMessageBytes {
		s = string(cutEnd([]byte(s), maxMessageBytes))
	}
	return s
}

// cutQuoted shortens every Go-quoted string in s ("...", with backslash
// escapes) whose content is longer than maxQuoted bytes.
func cutQuoted(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	var b strings.Builder
	i := 0
	for {
		open := strings.IndexByte(s[i:], '"')
		if open < 0 {
			break
		}
		open += i
		end := -1
		for j := open + 1; j < len(s); j++ {
			if s[j] == '\\' {
				j++
				continue
			}
			if s[j] == '"' {
				end = j
				break
			}
		}
		if end < 0 {
			break
		}
		b.WriteString(s[i : open+1])
		if inner := s[open+1 : end]; len(inner) > maxQuoted {
			n := maxQuoted - len("…")
			for n > 0 && !utf8.RuneStart(inner[n]) {
				n--
			}
			// Do not leave half an escape sequence behind.
			if k := strings.LastIndexByte(inner[:n], '\\'); k >= 0 && n-k < 10 {
				n = k
			}
			fmt.Fprintf(&b, "%s…\" (%d bytes)", inner[:n], len(inner))
		} else {
			b.WriteString(inner)
			b.WriteByte('"')
		}
		i = end + 1
	}
	b.WriteString(s[i:])
	return b.String()
}

// sanitize escapes what must not reach a terminal: C0 and C1 control
// characters (but newline and tab), DEL, bidirectional overrides (which
// can make a line read differently than it is), and bytes that are not
// UTF-8.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case needsEscape(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == utf8.RuneError:
		return true // an invalid byte, or U+FFFD itself (harmless either way)
	}
	return false
}

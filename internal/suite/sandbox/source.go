package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// ReadFile reads a regular file of at most 1 MiB, for file(), ca_file and
// a device's certificate and key. A device such as /dev/zero, a pipe or a
// socket is refused without reading it, since it may never end or never
// start. Its errors name no path: the caller names it.
func ReadFile(path string) ([]byte, error) {
	return readRegularFile(path, maxReadBytes)
}

// errNotRegular is what reading anything but a regular file (or a
// symlink to one) returns.
var errNotRegular = errors.New("is not a regular file (a device, pipe or socket)")

// openRegular opens a regular file for reading, or refuses it: a
// directory, and anything that is not a regular file, such as a FIFO, a
// terminal, /dev/stdin or /dev/zero, which may block or never end. The
// file is checked before it is opened, so that opening a device has no
// effect, and again once it is open (openNoBlock), so that a file
// swapped for a FIFO in between cannot block the caller.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, unwrapPathError(err)
	}
	if err := checkRegular(fi); err != nil {
		return nil, nil, err
	}
	f, err := openNoBlock(path)
	if err != nil {
		return nil, nil, unwrapPathError(err)
	}
	fi, err = f.Stat()
	if err == nil {
		err = checkRegular(fi)
	}
	if err != nil {
		f.Close()
		return nil, nil, unwrapPathError(err)
	}
	return f, fi, nil
}

// checkRegular refuses a directory and anything that is not a regular
// file.
func checkRegular(fi os.FileInfo) error {
	switch {
	case fi.IsDir():
		return errors.New("is a directory")
	case !fi.Mode().IsRegular():
		return errNotRegular
	}
	return nil
}

// readRegularFile is ReadFile with a limit of its own, in bytes.
func readRegularFile(path string, limit int64) ([]byte, error) {
	f, fi, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, fmt.Errorf("is larger than %s", sizeText(limit))
	}
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

// unwrapPathError drops the operation and path an *os.PathError repeats.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadSource reads a suite file or -var-file named on the command line.
// Like ReadFile it reads only a regular file (or a symlink to one): a
// FIFO, a terminal or a symlink to /dev/stdin is refused at once rather
// than read until it ends, which it may never do. It never reads more
// than MaxSourceBytes+1 bytes: a larger file comes back cut there, one
// byte over the limit, for CheckSource to report with a position. Its
// errors name no path: the caller names it.
func ReadSource(path string) ([]byte, error) {
	f, _, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxSourceBytes+1))
	if err != nil {
		return nil, unwrapPathError(err)
	}
	return src, nil
}

// tooLargeDiagnostic reports a source above MaxSourceBytes, positioned at
// its start.
func tooLargeDiagnostic(filename, what string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "File too large",
		Detail: fmt.Sprintf("The %s is larger than %s, the limit for one file; split it, "+
			"or read a long message body with file().", what, sizeText(MaxSourceBytes)),
		Subject: &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
	}
}

// CheckSource bounds what the parser will be asked to do with src before
// it parses anything: the size, and the nesting depth and operator chains
// that would make it recurse without bound. It returns at most one
// diagnostic, positioned where the limit is exceeded; filename names the
// source in it, and what says what the source is ("suite file",
// "variables file", "value").
func CheckSource(src []byte, filename, what string) hcl.Diagnostics {
	if len(src) > MaxSourceBytes {
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
			j := skipToKeyword(src, i)
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

// skipToKeyword returns the offset of the first byte at or after i that
// is not the strip marker ~, white space (newlines included) or a comment
// (/* */, // and #, as HCL templates allow between %{ and the keyword).
func skipToKeyword(src []byte, i int) int {
	for i < len(src) {
		switch {
		case src[i] == '~' || src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n':
			i++
		case bytes.HasPrefix(src[i:], []byte("/*")):
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 {
				return len(src)
			}
			i += 2 + end + 2
		case src[i] == '#' || bytes.HasPrefix(src[i:], []byte("//")):
			end := bytes.IndexByte(src[i:], '\n')
			if end < 0 {
				return len(src)
			}
			i += end
		default:
			return i
		}
	}
	return i
}

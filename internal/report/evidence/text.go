package evidence

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Segment is a run of text in a Text: either ordinary characters, or the
// visible Go-style escape (`\x1b`, `\u202e`) of one character that a reader
// must not be shown raw.
type Segment struct {
	Text string
	// Escaped is true when Text is the escape of a control character, a
	// Unicode format character or a byte that is not UTF-8.
	Escaped bool
}

// Text is a string of the run (a banner, a reply line, a label), already
// masked, split into segments so that renderers can show escapes apart
// from the characters a server really sent. It never holds a raw control
// character or invalid UTF-8.
type Text []Segment

// String joins the segments: the text as a terminal summary would show it.
func (t Text) String() string {
	switch len(t) {
	case 0:
		return ""
	case 1:
		return t[0].Text
	}
	var b strings.Builder
	for _, s := range t {
		b.WriteString(s.Text)
	}
	return b.String()
}

// Empty reports whether t has no characters.
func (t Text) Empty() bool { return len(t) == 0 }

// visibleText splits s into ordinary runs and escapes: C0 and C1 control
// characters (ESC starts the ECMA-48 sequences that recolour a terminal;
// NUL cuts C strings short), DEL, Unicode format characters (bidirectional
// overrides and isolates reorder what is shown; zero-width characters hide
// text), line and paragraph separators, and bytes that are not UTF-8. Tabs
// are kept. These are the characters summary.Printable escapes, so the
// report shows a hostile banner exactly as the terminal summary does.
func visibleText(s string) Text {
	if s == "" {
		return nil
	}
	var (
		out   Text
		start int
	)
	flush := func(end int) {
		if end > start {
			out = append(out, Segment{Text: s[start:end]})
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == utf8.RuneError && size == 1:
			esc = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\n':
			esc = `\n`
		case r == '\r':
			esc = `\r`
		case r < 0x80 && unsafeRune(r):
			esc = fmt.Sprintf(`\x%02x`, r)
		case unsafeRune(r):
			esc = fmt.Sprintf(`\u%04x`, r)
		}
		if esc != "" {
			flush(i)
			out = append(out, Segment{Text: esc, Escaped: true})
			start = i + size
		}
		i += size
	}
	flush(len(s))
	return out
}

func unsafeRune(r rune) bool {
	if r == '\t' {
		return false
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// markdownSpecial lists the ASCII punctuation that can start or end
// Markdown (CommonMark and GitHub Flavored Markdown) syntax inside a line:
// escapes, code spans, emphasis, links and images, raw HTML and
// autolinks, entities, table cells, headings' closing sequences,
// strikethrough and GitHub's math. CommonMark allows a backslash before
// any ASCII punctuation (spec section 2.4), so escaping these is always
// safe. Characters that are significant only at the start of a line
// (list markers, block quotes, headings, thematic breaks) need no escape
// because the renderer never starts a line with run text.
const markdownSpecial = "\\`*_[]<>|#~&!$"

// markdown renders t as Markdown inline text: every significant character
// is backslash-escaped and tabs become spaces.
func markdown(t Text) string {
	var b strings.Builder
	for _, seg := range t {
		for _, r := range seg.Text {
			switch {
			case r == '\t':
				b.WriteByte(' ')
			case r < utf8.RuneSelf && strings.ContainsRune(markdownSpecial, r):
				b.WriteByte('\\')
				b.WriteRune(r)
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// fence returns a Markdown code fence longer than any run of backticks in
// lines, and at least three long (CommonMark spec section 4.5: a fence is
// closed only by a run of backticks at least as long as its opening).
func fence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for i := 0; i < len(l); i++ {
			if l[i] == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

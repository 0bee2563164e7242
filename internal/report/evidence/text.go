package evidence

import (
	"strings"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/safetext"
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

// visibleText splits s into ordinary runs and the escapes of the
// characters safetext says must not be shown raw, the same ones every
// other output escapes.
func visibleText(s string) Text {
	if s == "" {
		return nil
	}
	var out Text
	safetext.Segments(s, false, func(text string, escaped bool) {
		out = append(out, Segment{Text: text, Escaped: escaped})
	})
	return out
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

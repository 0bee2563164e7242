package evidence

import (
	"strings"

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

// markdown renders t as Markdown inline text (safetext.Markdown).
func markdown(t Text) string {
	var b strings.Builder
	for _, seg := range t {
		b.WriteString(safetext.Markdown(seg.Text))
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

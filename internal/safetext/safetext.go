// Package safetext is the one policy for text that came from a peer or a
// suite on its way to any output (a terminal, JUnit XML, JSON, HTML,
// Markdown): which characters are shown as visible escapes instead of
// themselves, so that no such text can move a cursor, recolour a
// terminal, reorder or hide what is shown, or make a document invalid.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Unsafe reports whether r must not reach an output as itself: C0 and C1
// control characters other than tab (ESC starts the ECMA-48 sequences
// that move the cursor and change colours; 0x9B is a one-byte CSI; NUL
// cuts C strings short), DEL, Unicode format characters (bidirectional
// overrides and isolates reorder what is shown; zero-width characters and
// the byte order mark hide text), line and paragraph separators, and the
// noncharacters, which XML 1.0 section 2.2 does not allow (U+FFFE,
// U+FFFF) or discourages (the others). Newline is unsafe too; Block keeps
// it.
func Unsafe(r rune) bool {
	switch {
	case r == '\t':
		return false
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
		return true
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// Line returns s for a one-line field: every unsafe character, newline
// and carriage return included, and every byte that is not UTF-8 replaced
// by a Go-style escape (`\x1b`, `\n`, `\u202e`, `\xff`). Tabs are kept.
// A hostile banner "\x1b[2J" thus shows as the eight characters `\x1b[2J`.
func Line(s string) string { return escape(s, false) }

// Block is Line for multi-line text: newlines are kept, everything else
// is escaped the same way.
func Block(s string) string { return escape(s, true) }

func escape(s string, keepNewline bool) string {
	if clean(s, keepNewline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	Segments(s, keepNewline, func(text string, escaped bool) { b.WriteString(text) })
	return b.String()
}

func clean(s string, keepNewline bool) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			// ASCII, most of any text: only the C0 controls but tab (and
			// newline in blocks) and DEL are unsafe.
			if (c < 0x20 && c != '\t' && !(keepNewline && c == '\n')) || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || (Unsafe(r) && !(keepNewline && r == '\n')) {
			return false
		}
		i += size
	}
	return true
}

// Segments splits s into runs of characters that are shown as they are
// and the escapes of the others, in order, so that a renderer can set an
// escape apart from what a server really sent (the evidence report shows
// them highlighted). fn gets each run with escaped false, and each escape
// with escaped true.
func Segments(s string, keepNewline bool, fn func(text string, escaped bool)) {
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == utf8.RuneError && size == 1:
			esc = fmt.Sprintf(`\x%02x`, s[i])
		case !Unsafe(r), keepNewline && r == '\n':
		case r == '\n':
			esc = `\n`
		case r == '\r':
			esc = `\r`
		case r < 0x80:
			esc = fmt.Sprintf(`\x%02x`, r)
		case r <= 0xffff:
			esc = fmt.Sprintf(`\u%04x`, r)
		default:
			esc = fmt.Sprintf(`\U%08x`, r)
		}
		if esc != "" {
			if i > start {
				fn(s[start:i], false)
			}
			fn(esc, true)
			start = i + size
		}
		i += size
	}
	if len(s) > start {
		fn(s[start:], false)
	}
}

// markdownSpecial lists the ASCII punctuation that can start or end
// Markdown (CommonMark and GitHub Flavored Markdown) syntax inside a line:
// escapes, code spans, emphasis, links and images, raw HTML and
// autolinks, entities, table cells, headings' closing sequences,
// strikethrough and GitHub's math. CommonMark allows a backslash before
// any ASCII punctuation (spec section 2.4), so escaping these is always
// safe. Characters that are significant only at the start of a line
// (list markers, block quotes, headings, thematic breaks) need no escape
// as long as the writer never starts a line with the text.
const markdownSpecial = "\\`*_[]<>|#~&!$"

// Markdown renders a line, already made safe, as Markdown inline text:
// every significant character is backslash-escaped and tabs become
// spaces, so that it reads as itself in a paragraph or a table cell.
func Markdown(s string) string {
	var b strings.Builder
	for _, r := range s {
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
	return b.String()
}

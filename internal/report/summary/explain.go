package summary

import (
	"fmt"
	"io"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
)

// defaultFieldWidth is where explanations and probe details wrap when the
// width of the output is not known.
const defaultFieldWidth = 100

// fieldWidth is the width to wrap at: width, or defaultFieldWidth for 0.
func fieldWidth(width int) int {
	if width <= 0 {
		return defaultFieldWidth
	}
	return max(width, 40)
}

// WriteExplanation renders an explanation as labelled, wrapped lines: for
// a documented reply its meaning, the fix steps in Microsoft's order and
// the sources; for any other, its RFC meaning, the documented replies it
// may be, and a plain statement of what is not known.
func WriteExplanation(w io.Writer, x *knowledge.Explanation, width int) {
	width = fieldWidth(width)
	put := func(label, value string) {
		if value != "" {
			fmt.Fprint(w, field(label, value, 10, width))
		}
	}
	codes := strings.TrimSpace(fmt.Sprintf("%s %s", basicText(x.Basic), x.Enhanced))
	if x.AADSTS != "" {
		codes = x.AADSTS
	}
	if x.Input != codes {
		put("reply", x.Input)
	}
	if x.Known {
		e := x.Entry
		if e.Code() != codes {
			codes += " (Exchange Online: " + e.Code() + ")"
		}
		put("code", codes)
		put("title", e.Title)
		put("category", string(e.Category))
		put("meaning", e.Meaning)
		writeSteps(w, "fix", e.Steps, 10, width)
		put("setting", e.Setting)
		put("ip", ipText(x.IP))
		put("rfc", rfcText(x))
		for i, s := range e.Sources {
			label := ""
			if i == 0 {
				label = "source"
			}
			put(label, fmt.Sprintf("%s (%s, read %s)", s.URL, s.Title, s.Read))
		}
		put("note", e.Note)
		return
	}
	put("code", codes)
	put("category", string(x.Category))
	put("meaning", rfcText(x))
	put("ip", ipText(x.IP))
	put("source", x.GenericSource)
	switch {
	case x.AADSTS != "":
		put("not known", x.AADSTS+" is a Microsoft Entra ID error that smtpdiag's knowledge base does not cover: look it up in Microsoft's list of AADSTS codes, "+x.CodeList+
			", or read the error description that came with it.")
	case !x.Understood():
		put("not known", notKnown(codes))
	case len(x.Candidates) == 0:
		put("note", "Exchange Online does not document this exact reply; the meaning above is the RFC's for the code.")
	case len(x.Candidates) <= 3:
		fmt.Fprintf(w, "\nOn Exchange Online, %s is:\n", codes)
		for _, c := range x.Candidates {
			head := c.Code()
			if alts := c.TextAlternatives(); alts != nil {
				head += " when the text says " + quoteAlternatives(alts)
			}
			fmt.Fprintf(w, "\n  %s (%s)\n", head, c.Category)
			fmt.Fprint(w, field("  meaning", c.Meaning, 12, width))
			writeSteps(w, "  fix", c.Steps, 12, width)
			for _, f := range [][2]string{{"setting", c.Setting}, {"source", c.Source}, {"note", c.Note}} {
				if f[1] != "" {
					fmt.Fprint(w, field("  "+f[0], f[1], 12, width))
				}
			}
		}
	default:
		fmt.Fprintf(w, "\nOn Exchange Online, %s is one of these (explain the whole reply text for the fix):\n", codes)
		writeList(w, x.Candidates, width)
	}
	if len(x.Related) > 0 {
		fmt.Fprintf(w, "\nThe exact reply is not known. Exchange Online documents these replies of the same family:\n")
		writeList(w, x.Related, width)
	}
}

// notKnown says plainly that nothing is known about codes.
func notKnown(codes string) string {
	return codes + " is not a code that RFC 3463 or RFC 5321 defines a meaning for, and Exchange Online does not document it: " +
		"smtpdiag cannot tell what it means. Read the whole reply text, and the documentation of the server that sent it."
}

// writeSteps writes fix steps, numbered when there are several.
func writeSteps(w io.Writer, label string, steps []string, column, width int) {
	for i, step := range steps {
		l := ""
		if i == 0 {
			l = label
		}
		if len(steps) > 1 {
			step = fmt.Sprintf("%d. %s", i+1, step)
		}
		fmt.Fprint(w, field(l, step, column, width))
	}
}

// writeList writes entries one per line: code, category and meaning.
func writeList(w io.Writer, entries []knowledge.Entry, width int) {
	column := 0
	for _, c := range entries {
		column = max(column, len(c.Code())+4)
	}
	for _, c := range entries {
		value := string(c.Category) + ": "
		if alts := c.TextAlternatives(); alts != nil {
			value += "(text " + quoteAlternatives(alts) + ") "
		}
		fmt.Fprint(w, field("  "+c.Code(), value+c.Meaning, column, width))
	}
}

// quoteAlternatives renders text alternatives as "a" or "b".
func quoteAlternatives(alts []string) string {
	quoted := make([]string, len(alts))
	for i, a := range alts {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(quoted, " or ")
}

func basicText(code int) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprint(code)
}

func ipText(ip string) string {
	if ip == "" {
		return ""
	}
	return ip + " (the address the reply names: usually the sending IP as the server saw it)"
}

func rfcText(x *knowledge.Explanation) string {
	if x.Generic == "" {
		return ""
	}
	code := x.Enhanced
	if code == "" {
		code = fmt.Sprint(x.Basic)
	}
	return code + ": " + x.Generic
}

// field renders "label    value" with the value wrapped at width and
// continuation lines indented to the value's column.
func field(label, value string, column, width int) string {
	var b strings.Builder
	pad := column - len(label)
	if pad < 1 {
		pad = 1
	}
	b.WriteString(label)
	b.WriteString(strings.Repeat(" ", pad))
	col := len(label) + pad
	indent := strings.Repeat(" ", col)
	lineLen := col
	for i, word := range strings.Fields(value) {
		if i > 0 {
			if lineLen+1+len(word) > width {
				b.WriteString("\n")
				b.WriteString(indent)
				lineLen = col
			} else {
				b.WriteString(" ")
				lineLen++
			}
		}
		b.WriteString(word)
		lineLen += len(word)
	}
	b.WriteString("\n")
	return b.String()
}

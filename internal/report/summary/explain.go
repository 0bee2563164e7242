package summary

import (
	"fmt"
	"io"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
)

// fieldWidth is where explanations and probe details wrap.
const fieldWidth = 100

// WriteExplanation renders an explanation as labelled, wrapped lines.
func WriteExplanation(w io.Writer, x *knowledge.Explanation) {
	put := func(label, value string) {
		if value != "" {
			fmt.Fprint(w, field(label, value, 10, fieldWidth))
		}
	}
	codes := strings.TrimSpace(fmt.Sprintf("%s %s", basicText(x.Basic), x.Enhanced))
	if x.Input != codes {
		put("reply", x.Input)
	}
	if x.Known {
		e := x.Entry
		if e.Code() != codes {
			codes += " (Exchange Online: " + e.Code() + ")"
		}
		put("code", codes)
		put("category", string(e.Category))
		put("meaning", e.Meaning)
		put("fix", e.Fix)
		put("setting", e.Setting)
		put("ip", ipText(x.IP))
		put("rfc", rfcText(x))
		put("source", e.Source)
		put("note", e.Note)
		return
	}
	put("code", codes)
	put("category", string(x.Category))
	put("meaning", rfcText(x))
	put("ip", ipText(x.IP))
	put("source", x.GenericSource)
	switch {
	case len(x.Candidates) == 0:
		put("note", "Not in the Exchange Online knowledge base; this is the generic meaning of the code.")
	case len(x.Candidates) <= 3:
		fmt.Fprintf(w, "\nOn Exchange Online, %s is:\n", codes)
		for _, c := range x.Candidates {
			head := c.Code()
			if alts := c.TextAlternatives(); alts != nil {
				head += " when the text says " + quoteAlternatives(alts)
			}
			fmt.Fprintf(w, "\n  %s (%s)\n", head, c.Category)
			for _, f := range [][2]string{{"meaning", c.Meaning}, {"fix", c.Fix}, {"setting", c.Setting}, {"source", c.Source}, {"note", c.Note}} {
				if f[1] != "" {
					fmt.Fprint(w, field("  "+f[0], f[1], 12, fieldWidth))
				}
			}
		}
	default:
		fmt.Fprintf(w, "\nOn Exchange Online, %s is one of these (explain the whole reply text for the fix):\n", codes)
		column := 0
		for _, c := range x.Candidates {
			column = max(column, len(c.Code())+4)
		}
		for _, c := range x.Candidates {
			value := string(c.Category) + ": "
			if alts := c.TextAlternatives(); alts != nil {
				value += "(text " + quoteAlternatives(alts) + ") "
			}
			fmt.Fprint(w, field("  "+c.Code(), value+c.Meaning, column, fieldWidth))
		}
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

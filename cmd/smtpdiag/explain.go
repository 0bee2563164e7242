package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
)

const explainUsage = `Usage: smtpdiag explain [flags] CODE | "REPLY TEXT"

Explains an SMTP reply the way Exchange Online means it: category, meaning,
the usual fix, the Microsoft setting involved, and the source.

CODE is a basic code (530), an enhanced code (5.7.139), or a reply or NDR
line pasted whole; the basic code, the enhanced code and any IP address in
square brackets are found in it:

  smtpdiag explain 5.7.139
  smtpdiag explain 530
  smtpdiag explain "550 5.7.606 Access denied, banned sending IP [203.0.113.5]"

A code that Exchange Online does not document gets its RFC 3463 (enhanced)
or RFC 5321 (basic) meaning. No network traffic.

Exit codes: 0 explained, 2 the argument holds no reply code.
`

// explainWidth is where explain wraps its text.
const explainWidth = 100

func cmdExplain(args []string, e env) error {
	var asJSON bool
	fs := newFlagSet("explain", explainUsage, e.stdout)
	fs.BoolVar(&asJSON, "json", false, "print the explanation as JSON")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("explain needs a reply code or a reply text, e.g. smtpdiag explain 5.7.139")
	}
	// Unquoted reply texts arrive as several arguments.
	input := strings.TrimSpace(strings.Join(rest, " "))
	x, err := knowledge.Explain(input)
	if err != nil {
		return usagef("%s", err)
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}
	writeExplanation(e.stdout, x)
	return nil
}

// writeExplanation renders an explanation as labelled, wrapped lines.
func writeExplanation(w io.Writer, x *knowledge.Explanation) {
	field := func(label, value string) {
		if value != "" {
			fmt.Fprint(w, wrapField(label, value, 10, explainWidth))
		}
	}
	codes := strings.TrimSpace(fmt.Sprintf("%s %s", basicText(x.Basic), x.Enhanced))
	if x.Input != codes {
		field("reply", x.Input)
	}
	if x.Known {
		e := x.Entry
		if e.Code() != codes {
			codes += " (Exchange Online: " + e.Code() + ")"
		}
		field("code", codes)
		field("category", string(e.Category))
		field("meaning", e.Meaning)
		field("fix", e.Fix)
		field("setting", e.Setting)
		field("ip", ipText(x.IP))
		field("rfc", rfcText(x))
		field("source", e.Source)
		field("note", e.Note)
		return
	}
	field("code", codes)
	field("category", string(x.Category))
	field("meaning", rfcText(x))
	field("ip", ipText(x.IP))
	field("source", x.GenericSource)
	switch {
	case len(x.Candidates) == 0:
		field("note", "Not in the Exchange Online knowledge base; this is the generic meaning of the code.")
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
					fmt.Fprint(w, wrapField("  "+f[0], f[1], 12, explainWidth))
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
			fmt.Fprint(w, wrapField("  "+c.Code(), value+c.Meaning, column, explainWidth))
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

// wrapField renders "label    value" with the value wrapped at width and
// continuation lines indented to the value's column.
func wrapField(label, value string, column, width int) string {
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

package summary

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// paths writes a decision on the ways to send through Microsoft 365:
//
//	Ways to send for reception copier #1 after the Basic auth switch-off
//	  TLS 1.2 with ECDHE and AUTH LOGIN only: Basic auth is out; ...
//	  no     Basic auth   Basic auth is disabled by default from the end of ...
//	  maybe  OAuth        It used AUTH LOGIN, and OAuth needs AUTH XOAUTH2 ...
//
// With -v, what each open path needs follows its reason.
func (w *Writer) paths(b *strings.Builder, title string, d *result.PathDecision) {
	b.WriteString(w.paint(sgrBold, title) + "\n")
	w.fold(b, "  ", "  ", w.text(d.Summary))
	names := make([]string, len(d.Paths))
	nameWidth := 0
	for i, p := range d.Paths {
		names[i] = columnName(w.text(p.Short))
		nameWidth = max(nameWidth, utf8.RuneCountInString(names[i]))
	}
	indent := strings.Repeat(" ", 2+7+nameWidth+2)
	for i, p := range d.Paths {
		// Padded outside the colour codes, which take no columns.
		first := "  " + w.paint(verdictColor(p.Usable), p.Usable) + strings.Repeat(" ", max(0, 5-len(p.Usable))) +
			fmt.Sprintf("  %-*s  ", nameWidth, names[i])
		reason := ""
		if len(p.Reasons) > 0 {
			reason = w.text(p.Reasons[0])
		}
		w.fold(b, first, indent, reason)
		if w.opts.Verbose && p.Usable != "no" {
			for _, need := range p.Needs {
				w.fold(b, indent+"needs: ", indent+"       ", w.text(need))
			}
		}
	}
	if !w.opts.Verbose {
		b.WriteString("  (-v shows what each path needs; the evidence report, --report, has the sources)\n")
	}
}

// columnName is a path's short name as a column entry: "the ACS relay"
// becomes "ACS relay", "a connector" "Connector".
func columnName(short string) string {
	for _, article := range []string{"the ", "a ", "an "} {
		short = strings.TrimPrefix(short, article)
	}
	r, size := utf8.DecodeRuneInString(short)
	return string(unicode.ToUpper(r)) + short[size:]
}

func verdictColor(usable string) string {
	switch usable {
	case "yes":
		return sgrGreen
	case "maybe":
		return sgrYellow
	}
	return sgrRed
}

package summary

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// paths writes a decision on the ways to send through Microsoft 365
// under title (result.PathsTitle): for a device, from what it offered; for a
// suite, from its checks:
//
//	Ways reception copier #1 can send after the Basic auth switch-off
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
		names[i] = w.text(p.Column())
		nameWidth = max(nameWidth, utf8.RuneCountInString(names[i]))
	}
	indent := strings.Repeat(" ", 2+7+nameWidth+2)
	for i, p := range d.Paths {
		// Usable is yes, maybe or no, but a JSON report read back for
		// merge may hold anything: it is text like the rest. Padded
		// outside the colour codes, which take no columns.
		usable := w.text(p.Usable)
		first := "  " + w.paint(verdictColor(p.Usable), usable) + strings.Repeat(" ", max(0, 5-utf8.RuneCountInString(usable))) +
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

func verdictColor(usable string) string {
	switch usable {
	case "yes":
		return sgrGreen
	case "maybe":
		return sgrYellow
	}
	return sgrRed
}

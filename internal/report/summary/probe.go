package summary

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/report/matrix"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
)

// matrixCellWidth bounds a cell of the side-by-side matrix; the details
// below it show the full values.
const matrixCellWidth = 44

// WriteProbes prints the capability matrix of probed targets, side by
// side, then each target's EHLO replies, certificate chain and, for
// failures, the diagnosis, then a closing count line. now dates the
// certificates' days left.
func WriteProbes(w io.Writer, probes []*result.Probe, now time.Time, width int) {
	columns := make([]matrix.Column, len(probes))
	for i, p := range probes {
		columns[i] = matrix.Column{Name: p.Target, Target: p.Target, Conversations: []*result.Conversation{p.Conversation}}
	}
	m := matrix.Build(columns, now)
	verdicts := matrix.Row{Name: "Result"}
	for _, p := range probes {
		verdict := "ok"
		if !p.OK {
			verdict = "FAILED"
		}
		verdicts.Cells = append(verdicts.Cells, verdict)
	}
	head := matrix.Row{Name: "Target"}
	for _, p := range probes {
		head.Cells = append(head.Cells, p.Target)
	}
	writeMatrix(w, append([]matrix.Row{head, verdicts}, m.Rows...), width)
	width = fieldWidth(width)

	for _, p := range probes {
		fmt.Fprintf(w, "\n== %s\n", safetext.Line(p.Target))
		put := func(label, value string) {
			fmt.Fprint(w, field(label, safetext.Line(value), 14, width))
		}
		if p.Banner != "" {
			put("banner", p.Banner)
		}
		if p.EHLOBeforeTLS != nil {
			put("EHLO", strings.Join(p.EHLOBeforeTLS.Lines(), ", "))
		}
		if p.EHLOAfterTLS != nil {
			put("EHLO in TLS", strings.Join(p.EHLOAfterTLS.Lines(), ", "))
		}
		if p.TLS != nil {
			for i, c := range p.TLS.Chain {
				put(fmt.Sprintf("certificate %d", i), fmt.Sprintf("%s, issuer %s, not after %s (%s)",
					c.Subject, c.Issuer, c.NotAfter.UTC().Format("2006-01-02"), matrix.DaysLeft(c.NotAfter, now)))
			}
			if p.TLS.VerifyError != "" {
				put("not verified", p.TLS.VerifyError)
			}
		}
		if !p.OK {
			put("FAILED", p.Problem)
			if d := p.Diagnosis; d != nil {
				put("diagnosis", fmt.Sprintf("(%s) %s", d.Category, d.Meaning))
				put("fix", d.Fix)
				if d.Source != "" {
					put("source", d.Source)
				}
			}
		}
	}
	failed := 0
	for _, p := range probes {
		if !p.OK {
			failed++
		}
	}
	fmt.Fprintf(w, "\n%d answered, %d failed\n", len(probes)-failed, failed)
}

// writeMatrix prints rows as aligned columns, each cell made safe for a
// terminal and clipped when several columns share the line: to 44
// columns, or less so that the table fits width (when known).
func writeMatrix(w io.Writer, rows []matrix.Row, width int) {
	labelWidth := 0
	for _, row := range rows {
		labelWidth = max(labelWidth, len(row.Name))
	}
	cellWidth := matrixCellWidth
	if n := len(rows[0].Cells); width > 0 && n > 1 {
		cellWidth = max(min(cellWidth, (width-labelWidth)/n-2), 12)
	}
	var widths []int
	cells := make([][]string, len(rows))
	for r, row := range rows {
		for i, v := range row.Cells {
			v = clip(safetext.Line(v), len(row.Cells), cellWidth)
			cells[r] = append(cells[r], v)
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(v))
		}
	}
	for r, row := range rows {
		var b strings.Builder
		b.WriteString(row.Name)
		b.WriteString(strings.Repeat(" ", labelWidth-len(row.Name)))
		for i, v := range cells[r] {
			b.WriteString("  ")
			b.WriteString(v)
			if i < len(cells[r])-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v)))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// clip shortens a matrix cell to width when several targets share the
// line; the details below the matrix show every value whole.
func clip(s string, columns, width int) string {
	if columns < 2 || utf8.RuneCountInString(s) <= width {
		return s
	}
	return cut(s, width)
}

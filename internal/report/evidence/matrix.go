package evidence

import (
	"github.com/smtpdiag/smtpdiag/internal/report/matrix"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// matrix compares the endpoints of s's smtp checks, one column per
// endpoint label in order of first use, each cell the first answer any of the endpoint's
// conversations gave. Nil when fewer than two endpoints were talked to.
func (b builder) matrix(s *result.Suite) *Matrix {
	type column struct {
		endpoint string
		checks   []*result.Check
	}
	var cols []*column
	index := map[string]*column{}
	for _, r := range s.Checks {
		// Only smtp checks hold conversations; a dns or dnsbl check is
		// never a column, whatever its result carries.
		if r.Conversation == nil || r.Kind == "dns" || r.Kind == "dnsbl" {
			continue
		}
		col := index[r.Endpoint]
		if col == nil {
			col = &column{endpoint: r.Endpoint}
			index[r.Endpoint] = col
			cols = append(cols, col)
		}
		col.checks = append(col.checks, r)
	}
	if len(cols) < 2 {
		return nil
	}
	columns := make([]matrix.Column, 0, len(cols))
	for _, col := range cols {
		c := matrix.Column{Name: col.endpoint, Target: col.checks[0].Target}
		for _, r := range col.checks {
			c.Conversations = append(c.Conversations, r.Conversation)
		}
		columns = append(columns, c)
	}
	now := b.now
	if now.IsZero() {
		now = s.Started
	}
	built := matrix.Build(columns, now)
	m := &Matrix{}
	for _, col := range built.Columns {
		m.Columns = append(m.Columns, MatrixColumn{Endpoint: b.text(col.Name), Target: b.text(col.Target)})
	}
	for _, row := range built.Rows {
		out := MatrixRow{Name: row.Name}
		for _, cell := range row.Cells {
			out.Cells = append(out.Cells, b.text(cell))
		}
		m.Rows = append(m.Rows, out)
	}
	return m
}

// Matrix is the capability comparison of a suite's endpoints.
type Matrix struct {
	Columns []MatrixColumn
	Rows    []MatrixRow
}

// MatrixColumn is one endpoint.
type MatrixColumn struct {
	Endpoint Text
	Target   Text
}

// MatrixRow is one capability across the endpoints.
type MatrixRow struct {
	Name  string
	Cells []Text
}

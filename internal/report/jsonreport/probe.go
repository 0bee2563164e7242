package jsonreport

import (
	"io"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// WriteProbes writes what smtpdiag probe found, one object per target,
// as an indented JSON array, its text made safe as in Write.
func WriteProbes(w io.Writer, probes []*result.Probe) error {
	return encode(w, probes, nil)
}

// WriteExplanation writes what smtpdiag explain found out about a reply,
// its text made safe as in Write.
func WriteExplanation(w io.Writer, x *knowledge.Explanation) error {
	return encode(w, x, nil)
}

package jsonreport

import (
	"encoding/json"
	"io"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// WriteProbes writes what smtpdiag probe found, one object per target,
// as an indented JSON array.
func WriteProbes(w io.Writer, probes []*result.Probe) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(probes)
}

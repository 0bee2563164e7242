package evidence

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Format is a report's file format.
type Format int

// The formats.
const (
	HTML Format = iota + 1
	Markdown
)

func (f Format) String() string {
	switch f {
	case HTML:
		return "html"
	case Markdown:
		return "markdown"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf picks the format from a file name's extension: .html or .htm
// for HTML, .md or .markdown for Markdown (case-insensitive).
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return HTML, nil
	case ".md", ".markdown":
		return Markdown, nil
	}
	return 0, fmt.Errorf("%s: the report's file name must end in .html, .htm or .md", path)
}

// Write builds the report of suites and renders it to w in format f, as
// Build and WriteHTML or WriteMarkdown would, but it builds the details
// of one suite at a time as it renders them: the report of a large run is
// never held in memory whole. On an error, w holds part of the report.
func Write(w io.Writer, f Format, suites []*result.Suite, opts Options) error {
	rep := build(suites, opts, false)
	b := builder{red: opts.Redactor, now: opts.Generated}
	details := func(i int) *Suite { return b.suite(i, suites[i], true) }
	switch f {
	case HTML:
		return rep.writeHTML(w, details)
	case Markdown:
		return rep.writeMarkdown(w, details)
	}
	return fmt.Errorf("evidence report: unknown format %v", f)
}

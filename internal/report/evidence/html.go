package evidence

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sync"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate renders a Report as one self-contained page: inline CSS, no
// script, no external resource. html/template escapes every value by its
// context (element text, attribute, URL, CSS), and a Content-Security-
// Policy that allows no script and no fetch is a second wall should a
// future template change ever let markup through.
//
// It is parsed on first use, not at start-up: most runs write no report.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Parse(htmlSource))
})

// WriteHTML renders rep as an HTML page to w, as it goes: the page is
// never held in memory whole. On an error, w holds part of it.
func (rep *Report) WriteHTML(w io.Writer) error {
	return rep.writeHTML(w, func(i int) *Suite { return rep.Suites[i] })
}

// writeHTML renders the page: its head (the facts and the overview of
// every check), then each suite's section with details(i) in place of
// rep.Suites[i], then its foot; the template's "report" renders the same.
func (rep *Report) writeHTML(w io.Writer, details func(int) *Suite) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	t := htmlTemplate()
	if err := t.ExecuteTemplate(bw, "head", rep); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	for i := range rep.Suites {
		if err := t.ExecuteTemplate(bw, "suite", details(i)); err != nil {
			return fmt.Errorf("html report: %w", err)
		}
	}
	if err := t.ExecuteTemplate(bw, "foot", rep); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return bw.Flush()
}

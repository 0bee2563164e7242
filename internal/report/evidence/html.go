package evidence

import (
	"bytes"
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

// WriteHTML renders rep as an HTML page to w.
func (rep *Report) WriteHTML(w io.Writer) error {
	var buf bytes.Buffer
	if err := htmlTemplate().Execute(&buf, rep); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

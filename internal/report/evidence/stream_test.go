package evidence

import (
	"bytes"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// TestWriteIsBuildThenRender: Write, which builds each suite's details as
// it renders them, writes what Build and WriteHTML or WriteMarkdown write.
func TestWriteIsBuildThenRender(t *testing.T) {
	opts := Options{Redactor: reporttest.Redactor(), Generated: reporttest.Start.Add(time.Hour), Hostname: "runner", Version: "test"}
	for name, suites := range map[string][]*result.Suite{
		"results":     reporttest.Results(),
		"dns":         reporttest.DNSResults(),
		"hostile":     reporttest.HostileResults(),
		"interrupted": reporttest.Interrupted(),
		"none":        nil,
	} {
		for _, f := range []Format{HTML, Markdown} {
			var streamed, whole bytes.Buffer
			if err := Write(&streamed, f, suites, opts); err != nil {
				t.Fatal(err)
			}
			rep := Build(suites, opts)
			render := rep.WriteHTML
			if f == Markdown {
				render = rep.WriteMarkdown
			}
			if err := render(&whole); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(streamed.Bytes(), whole.Bytes()) {
				t.Errorf("%s, %s: Write differs from Build and render:\n%s\n--- want\n%s", name, f, streamed.Bytes(), whole.Bytes())
			}
		}
	}
}

package junit

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// whole is the document Write streams, built at once and written by
// go-junit-report's WriteXML.
func whole(suites []*result.Suite, opts Options) []byte {
	t := text{opts.Redactor}
	doc := junit.Testsuites{Name: "smtpdiag"}
	var total time.Duration
	for i, s := range suites {
		doc.AddSuite(t.suite(i, s, opts.Hostname))
		total += s.Duration
	}
	doc.Time = seconds(total)
	doc.Skipped, doc.Disabled = 0, 0
	var b bytes.Buffer
	b.WriteString(xml.Header)
	doc.WriteXML(&b)
	return b.Bytes()
}

// TestStreamedIsTheWholeDocument: Write, a suite at a time, writes the
// bytes go-junit-report writes for the whole document.
func TestStreamedIsTheWholeDocument(t *testing.T) {
	empty := []*result.Suite{{Name: "no checks", Path: "empty.hcl", Started: reporttest.Start}}
	for name, suites := range map[string][]*result.Suite{
		"results":     reporttest.Results(),
		"dns":         reporttest.DNSResults(),
		"hostile":     reporttest.HostileResults(),
		"interrupted": reporttest.Interrupted(),
		"no suites":   nil,
		"no checks":   empty,
	} {
		opts := Options{Redactor: reporttest.Redactor(), Hostname: "runner"}
		var got bytes.Buffer
		if err := Write(&got, suites, opts); err != nil {
			t.Fatal(err)
		}
		if want := whole(suites, opts); !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: streamed\n%s\nwant\n%s", name, got.Bytes(), want)
		}
	}
}

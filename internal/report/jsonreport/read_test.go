package jsonreport

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/report/evidence"
	"github.com/smtpdiag/smtpdiag/internal/report/junit"
	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/report/summary"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// filler sets every field of a value, however deep, to something other
// than its zero value, each string and number different.
type filler struct{ n int }

var (
	fillExtensions = reflect.TypeFor[esmtp.Extensions]()
	timeType       = reflect.TypeFor[time.Time]()
)

func (f *filler) fill(v reflect.Value) {
	f.n++
	switch {
	case v.Type() == fillExtensions:
		v.Set(reflect.ValueOf(esmtp.ParseEHLO([]string{"AUTH LOGIN PLAIN", fmt.Sprintf("X-%d", f.n)})))
		return
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(reporttest.Start.Add(time.Duration(f.n) * time.Second)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("text %d", f.n))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(f.n))
	case reflect.Float64:
		v.SetFloat(float64(f.n) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			f.fill(v.Index(i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		f.fill(k)
		f.fill(e)
		v.SetMapIndex(k, e)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	default:
		panic(fmt.Sprintf("filler: no rule for %s", v.Type()))
	}
}

// TestEveryFieldReadsBack fills every field of the results model that a
// run's report holds (suites, checks, conversations, DNS lookups and
// outcomes, blocklist verdicts, device sessions, diagnoses, the shard)
// and reads the report back: what comes back is what went in, so that a
// field added without a way back into the model fails here.
func TestEveryFieldReadsBack(t *testing.T) {
	var suites []*result.Suite
	f := &filler{}
	f.fill(reflect.ValueOf(&suites).Elem())
	shard := &result.Shard{}
	f.fill(reflect.ValueOf(shard).Elem())
	var out bytes.Buffer
	if err := Write(&out, suites, Options{Version: "test", Shard: shard}); err != nil {
		t.Fatal(err)
	}
	rep, err := Read(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Results(); !reflect.DeepEqual(got, suites) {
		for i := range suites {
			for j := range suites[i].Checks {
				if !reflect.DeepEqual(got[i].Checks[j], suites[i].Checks[j]) {
					t.Errorf("check %d of suite %d comes back as\n%+v\nwant\n%+v", j, i, got[i].Checks[j], suites[i].Checks[j])
				}
			}
		}
		t.Fatalf("the suites do not come back as they were written")
	}
	if !reflect.DeepEqual(rep.Shard, shard) || rep.Version != "test" {
		t.Errorf("shard %+v, version %q", rep.Shard, rep.Version)
	}
}

// TestEmptyEHLOReadsBack: an EHLO that offered nothing is not one that
// did not happen (the capability matrix tells them apart).
func TestEmptyEHLOReadsBack(t *testing.T) {
	suites := []*result.Suite{{Name: "s", Path: "s.hcl", Checks: []*result.Check{{
		Label: "c", Status: result.Passed,
		Conversation: &result.Conversation{EHLOBeforeTLS: esmtp.ParseEHLO([]string{}), EHLOAfterTLS: nil},
	}}}}
	var out bytes.Buffer
	if err := Write(&out, suites, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"ehlo_before_tls": []`) || strings.Contains(out.String(), "ehlo_after_tls") {
		t.Errorf("EHLOs written as\n%s", out.String())
	}
	rep, err := Read(&out)
	if err != nil {
		t.Fatal(err)
	}
	conv := rep.Results()[0].Checks[0].Conversation
	if conv.EHLOBeforeTLS == nil || len(conv.EHLOBeforeTLS) != 0 || conv.EHLOAfterTLS != nil {
		t.Errorf("EHLOs read back as %#v and %#v", conv.EHLOBeforeTLS, conv.EHLOAfterTLS)
	}
}

// TestWriteReadWrite: each fixture of the reporters' tests, hostile text
// and secrets included, written, read back and written again gives the
// same document.
func TestWriteReadWrite(t *testing.T) {
	for name, suites := range map[string][]*result.Suite{
		"results":     reporttest.Results(),
		"dns":         reporttest.DNSResults(),
		"hostile":     reporttest.HostileResults(),
		"interrupted": reporttest.Interrupted(),
	} {
		var first bytes.Buffer
		if err := Write(&first, suites, Options{Redactor: reporttest.Redactor(), Version: version}); err != nil {
			t.Fatal(err)
		}
		rep, err := Read(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var second bytes.Buffer
		if err := Write(&second, rep.Results(), Options{Version: rep.Version}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Errorf("%s: written again, the report differs:\n%s", name, second.String())
		}
	}
}

func TestReadRefuses(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"", "the file is empty or cut short"},
		{`{"tool": "smtpdiag", "suites": [`, "the file is empty or cut short"},
		{"not json", "not a JSON report of smtpdiag: invalid character"},
		{`[]`, "not a JSON report of smtpdiag: [ where { belongs"},
		{`{"tool": "smtpdiag", "suites": {}}`, "suites: { is not an array"},
		{`{"tool": "smtpdiag", "suites": []} {}`, "data after the report"},
		{`{"tool": "junit"}`, `not a JSON report of smtpdiag (tool "junit")`},
		{`{"tool": "smtpdiag", "suites": [null]}`, "suite 1 is null"},
		{`{"tool": "smtpdiag", "suites": [{"path": "a.hcl", "checks": [null]}]}`, "suite a.hcl: check 1 is null"},
		{`{"tool": "smtpdiag", "suites": [{"path": "a.hcl", "checks": [{"index": "one"}]}]}`, "cannot unmarshal string"},
	} {
		_, err := Read(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%q): %v, want %q", tc.doc, err, tc.want)
		}
	}
}

// TestOtherReportersReadBack: JUnit, the summary and the evidence report
// render the results read back as they render the run's own, secrets
// and hostile text included, with two differences that Read documents:
// bytes that are not UTF-8 come back as U+FFFD, as the JSON report has
// them, and the evidence report cannot highlight escapes it gets as
// text, so it is compared for a run without them.
func TestOtherReportersReadBack(t *testing.T) {
	opts := evidence.Options{Generated: reporttest.Start.Add(time.Hour), Hostname: "runner", Version: version}
	for name, suites := range map[string][]*result.Suite{
		"results":     reporttest.Results(),
		"dns":         reporttest.DNSResults(),
		"hostile":     reporttest.HostileResults(),
		"interrupted": reporttest.Interrupted(),
	} {
		red := reporttest.Redactor()
		var doc bytes.Buffer
		if err := Write(&doc, suites, Options{Redactor: red}); err != nil {
			t.Fatal(err)
		}
		rep, err := Read(&doc)
		if err != nil {
			t.Fatal(err)
		}
		back := rep.Results()
		replaceInvalidUTF8(reflect.ValueOf(suites))
		render := map[string]func([]*result.Suite, *redact.Redactor) []byte{
			"junit": func(s []*result.Suite, r *redact.Redactor) []byte {
				var b bytes.Buffer
				junit.Write(&b, s, junit.Options{Redactor: r, Hostname: "runner"})
				return b.Bytes()
			},
			"summary": func(s []*result.Suite, r *redact.Redactor) []byte {
				var b bytes.Buffer
				w := summary.New(&b, summary.Options{Redactor: r, Verbose: true})
				for _, ev := range reporttest.Events(s) {
					w.Handle(ev)
				}
				w.Finish(s)
				return b.Bytes()
			},
		}
		if name == "dns" {
			for _, f := range []evidence.Format{evidence.HTML, evidence.Markdown} {
				render["evidence "+f.String()] = func(s []*result.Suite, r *redact.Redactor) []byte {
					var b bytes.Buffer
					o := opts
					o.Redactor = r
					evidence.Write(&b, f, s, o)
					return b.Bytes()
				}
			}
		}
		for kind, r := range render {
			if want, got := r(suites, red), r(back, nil); !bytes.Equal(got, want) {
				t.Errorf("%s, %s: read back, it renders differently:\n--- got\n%s\n--- want\n%s", name, kind, got, want)
			}
		}
	}
}

// replaceInvalidUTF8 replaces, in every string v holds, each byte that is
// not UTF-8 with U+FFFD, as encoding/json does.
func replaceInvalidUTF8(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			var b strings.Builder
			for _, r := range v.String() {
				b.WriteRune(r) // each invalid byte comes as U+FFFD
			}
			v.SetString(b.String())
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			replaceInvalidUTF8(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			replaceInvalidUTF8(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				replaceInvalidUTF8(v.Field(i))
			}
		}
	}
}

package jsonreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const version = "1.0.0-test"

func render(t *testing.T, suites []*result.Suite, opts Options) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Write(&out, suites, opts); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func fixture(t *testing.T) []byte {
	t.Helper()
	return render(t, reporttest.Results(), Options{Redactor: reporttest.Redactor(), Version: version})
}

func TestGolden(t *testing.T) {
	got := fixture(t)
	path := filepath.Join("testdata", "report.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestReadsBack(t *testing.T) {
	out := fixture(t)
	if !bytes.HasPrefix(out, []byte("{\n  \"tool\": \"smtpdiag\",\n  \"version\": \"1.0.0-test\",\n  \"started\": ")) {
		t.Errorf("members out of order or not indented by two spaces:\n%.120s", out)
	}
	var rep Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Tool != "smtpdiag" || rep.Version != version || !rep.Started.Equal(reporttest.Start) || rep.Duration != 41770*time.Millisecond {
		t.Errorf("tool=%q version=%q started=%v duration=%v", rep.Tool, rep.Version, rep.Started, rep.Duration)
	}
	if want := (Summary{Passed: 1, Failed: 2, Errors: 1, Skipped: 1, Total: 5}); rep.Summary != want {
		t.Errorf("summary %+v, want %+v", rep.Summary, want)
	}
	if len(rep.Suites) != 2 {
		t.Fatalf("%d suites, want 2", len(rep.Suites))
	}
	contoso, fabrikam := rep.Suites[0], rep.Suites[1]
	if contoso.Name != "contoso: scan-to-email" || contoso.Path != "suites/contoso.hcl" || len(contoso.Checks) != 2 ||
		contoso.Summary != (Summary{Passed: 1, Failed: 1, Total: 2}) {
		t.Errorf("first suite: %+v", contoso)
	}
	if fabrikam.Summary != (Summary{Failed: 1, Errors: 1, Skipped: 1, Total: 3}) || len(fabrikam.Checks) != 3 {
		t.Errorf("second suite summary %+v", fabrikam.Summary)
	}

	pass := contoso.Checks[0]
	if pass.Status != result.Passed || pass.Label != "device can submit through smtp.office365.com" || pass.Attempts != 1 ||
		pass.Duration != 1234*time.Millisecond || pass.Target != "smtp.office365.com:587" {
		t.Errorf("passing check: %+v", pass)
	}
	c := pass.Conversation
	if c == nil || c.RemoteAddr != "198.51.100.7:587" || c.ClientIP != "203.0.113.5" || len(c.Steps) != 11 ||
		c.TLS == nil || c.TLS.Version != "1.3" || len(c.TLS.Chain) != 1 || c.TLS.Chain[0].NotAfter.Year() != 2027 ||
		strings.Join(c.EHLOAfterTLS.Lines(), "|") != "SIZE 157286400|PIPELINING|AUTH LOGIN XOAUTH2" ||
		len(c.Transcript) != 12 || c.Steps[1].Reply.Code != 220 {
		t.Errorf("passing check's conversation: %+v", c)
	}

	fail := contoso.Checks[1]
	if fail.Status != result.Failed || len(fail.Failures) != 2 || fail.Failures[0].Expectation != "rcpt" ||
		fail.Diagnosis == nil || fail.Diagnosis.Category != result.Reputation || fail.Diagnosis.IP != "192.0.2.1" {
		t.Errorf("failing check: %+v", fail)
	}
	if r := fail.Conversation.StepsOf("rcpt")[0].Reply; r.Code != 550 || r.Enhanced != "5.7.606" ||
		r.Lines[0] != "Access denied, banned sending IP [192.0.2.1] (session ****)" {
		t.Errorf("rcpt reply %+v", r)
	}

	errored, skipped, hostile := fabrikam.Checks[0], fabrikam.Checks[1], fabrikam.Checks[2]
	if errored.Status != result.Errored || errored.Error != "ca_file: open lab-ca.pem: no such file or directory" || errored.Conversation != nil {
		t.Errorf("errored check: %+v", errored)
	}
	if skipped.Status != result.Skipped {
		t.Errorf("skipped check: %+v", skipped)
	}
	// JSON strings cannot hold invalid UTF-8: those bytes become U+FFFD;
	// the control characters read back as the visible escapes of the one
	// text policy, never as themselves.
	if got, want := hostile.Conversation.Steps[1].Reply.Lines[0], `<script>alert(1)</script> \x1b[31mSERVICE\x1b[0m busy\x00 `+"\ufffd\ufffd ]]> end"; got != want {
		t.Errorf("hostile banner read back as %q, want %q", got, want)
	}
	if hostile.Attempts != 3 {
		t.Errorf("hostile attempts %d", hostile.Attempts)
	}
}

func TestHostileText(t *testing.T) {
	for name, opts := range map[string]Options{"masked": {Redactor: reporttest.Redactor()}, "unmasked": {}} {
		out := render(t, reporttest.Results(), opts)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Errorf("%s: invalid JSON or UTF-8", name)
		}
		for _, bad := range []string{"\x1b", "\x00", "<script>"} {
			if bytes.Contains(out, []byte(bad)) {
				t.Errorf("%s: output holds %q raw", name, bad)
			}
		}
		if !bytes.Contains(out, []byte(`\u003cscript\u003ealert(1)\u003c/script\u003e \\x1b[31mSERVICE\\x1b[0m busy\\x00 `)) {
			t.Errorf("%s: hostile banner not escaped as expected", name)
		}
	}
}

func TestSecretsMasked(t *testing.T) {
	if !bytes.Contains(render(t, reporttest.Results(), Options{}), []byte(reporttest.Secret)) {
		t.Fatal("the fixture does not carry the secret into the output; the masking test would prove nothing")
	}
	out := fixture(t)
	for _, form := range reporttest.SecretForms() {
		if bytes.Contains(out, []byte(form)) {
			t.Errorf("output holds the secret as %q", form)
		}
	}
	if !bytes.Contains(out, []byte(redact.Mask)) {
		t.Error("output holds no mask")
	}
	// Masking must not touch the caller's results.
	results := reporttest.Results()
	render(t, results, Options{Redactor: reporttest.Redactor()})
	if !strings.Contains(results[0].Checks[1].Failures[0].Message, reporttest.Secret) {
		t.Error("Write changed the results it was given")
	}
}

func TestMaskValues(t *testing.T) {
	mask := func(s string) string { return strings.ReplaceAll(s, "key", "***") }
	for _, tc := range []struct{ in, want string }{
		{`{}`, `{}`},
		{`[]`, `[]`},
		{`"a key"`, `"a ***"`},
		{`{"key":"key","n":1.50e3,"b":true,"z":null}`, `{"key":"***","n":1.50e3,"b":true,"z":null}`},
		{`[{"a":["key",{"key":[]}]},"x\"key\"\u003c",-0.0]`, `[{"a":["***",{"key":[]}]},"x\"***\"\u003c",-0.0]`},
		{`{"a":{"b":{}},"c":[[],[1,2]],"d":"keykey"}`, `{"a":{"b":{}},"c":[[],[1,2]],"d":"******"}`},
	} {
		got, err := maskValues([]byte(tc.in), mask)
		if err != nil {
			t.Errorf("maskValues(%s): %v", tc.in, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("maskValues(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`{"a":`, `[1,2`, `{} {}`, ``} {
		if got, err := maskValues([]byte(bad), mask); err == nil {
			t.Errorf("maskValues(%s) = %s, want an error", bad, got)
		}
	}
}

func TestEmpty(t *testing.T) {
	out := render(t, nil, Options{Version: version, Started: reporttest.Start})
	want := `{
  "tool": "smtpdiag",
  "version": "1.0.0-test",
  "started": "2026-12-05T06:00:00Z",
  "duration_ns": 0,
  "summary": {
    "passed": 0,
    "failed": 0,
    "errors": 0,
    "skipped": 0,
    "total": 0
  },
  "suites": []
}
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	out = render(t, []*result.Suite{{Name: "empty", Path: "empty.hcl"}}, Options{})
	if !bytes.Contains(out, []byte(`"checks": []`)) {
		t.Errorf("a suite without checks has no empty checks list:\n%s", out)
	}
}

// TestNoUnsafeRunes: a consumer decoding the report gets no control,
// format or noncharacter as itself in any string value.
func TestNoUnsafeRunes(t *testing.T) {
	out := render(t, reporttest.HostileResults(), Options{})
	var doc any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	seen := 0
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if r, ok := reporttest.Unsafe(v); ok {
				t.Errorf("%U in the decoded value %q", r, v)
			}
			if strings.Contains(v, "hostile") {
				seen++
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	if seen < 10 {
		t.Errorf("only %d values carry the hostile text; the test would prove little", seen)
	}
}

// TestProbesEscaped: probe's JSON carries no control or format character
// a server sent.
func TestProbesEscaped(t *testing.T) {
	var out bytes.Buffer
	if err := WriteProbes(&out, reporttest.HostileProbes()); err != nil {
		t.Fatal(err)
	}
	var doc []map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	subject := doc[0]["tls"].(map[string]any)["chain"].([]any)[0].(map[string]any)["subject"].(string)
	if r, ok := reporttest.Unsafe(subject); ok || !strings.HasPrefix(subject, `CN=hostile\x00x\x07x`) {
		t.Errorf("subject %q (%U)", subject, r)
	}
}

// TestInterrupted: an interrupted suite says so in the JSON.
func TestInterrupted(t *testing.T) {
	var rep struct {
		Suites []struct {
			Interrupted string `json:"interrupted"`
		} `json:"suites"`
	}
	if err := json.Unmarshal(render(t, reporttest.Interrupted(), Options{}), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Suites[0].Interrupted != "" || rep.Suites[1].Interrupted != "the run was interrupted (SIGTERM)" {
		t.Errorf("interrupted: %+v", rep.Suites)
	}
}

// TestTransformIndentsAsJSONIndent: masking and indenting in one pass
// gives what masking and then json.Indent give, at any prefix.
func TestTransformIndentsAsJSONIndent(t *testing.T) {
	mask := func(s string) string { return strings.ReplaceAll(s, "Access", "A\x1bccess") }
	docs := []any{reporttest.Results(), reporttest.DNSResults(), reporttest.HostileResults(), reporttest.HostileProbes(),
		map[string]any{"a": []any{}, "b": map[string]any{}, "c": [][]int{{}, {1, 2}}, "d": "x\"y\\z<&>\u2028"}, []int{}, "s", 1.5}
	for i, v := range docs {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		masked, err := maskValues(raw, mask)
		if err != nil {
			t.Fatal(err)
		}
		for _, prefix := range []string{"", "    "} {
			var want bytes.Buffer
			if err := json.Indent(&want, masked, prefix, "  "); err != nil {
				t.Fatal(err)
			}
			got, err := transform(nil, raw, mask, true, prefix)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("document %d, prefix %q:\n%s\nwant\n%s", i, prefix, got, want.Bytes())
			}
		}
	}
}

// maskValues re-encodes the JSON document doc with every string value
// passed through mask (transform, without indent): member names, numbers
// and the order of members are kept.
func maskValues(doc []byte, mask func(string) string) ([]byte, error) {
	if !json.Valid(doc) {
		return nil, errors.New("not a valid JSON document")
	}
	return transform(nil, doc, mask, false, "")
}

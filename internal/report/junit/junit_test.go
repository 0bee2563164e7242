package junit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

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
	return render(t, reporttest.Results(), Options{Redactor: reporttest.Redactor(), Hostname: "ci-runner-01"})
}

func TestGolden(t *testing.T) {
	got := fixture(t)
	path := filepath.Join("testdata", "report.golden.xml")
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

func TestParsesBack(t *testing.T) {
	out := fixture(t)
	if !bytes.HasPrefix(out, []byte(xml.Header)) {
		t.Errorf("no XML declaration: %.60q", out)
	}
	var doc junit.Testsuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 5 || doc.Failures != 2 || doc.Errors != 1 || doc.Skipped != 0 || doc.Disabled != 0 {
		t.Errorf("testsuites counts: tests=%d failures=%d errors=%d skipped=%d disabled=%d, want 5 2 1 0 0",
			doc.Tests, doc.Failures, doc.Errors, doc.Skipped, doc.Disabled)
	}
	if bytes.Contains(out[:bytes.Index(out, []byte("<testsuite "))], []byte("skipped=")) {
		t.Error("<testsuites> carries a skipped count, which junit-10.xsd does not allow")
	}
	if doc.Time != "41.770" {
		t.Errorf("testsuites time = %q, want 41.770", doc.Time)
	}
	if len(doc.Suites) != 2 {
		t.Fatalf("%d testsuites, want 2", len(doc.Suites))
	}

	type counts struct{ tests, failures, errors, skipped int }
	for i, want := range []struct {
		name, file, time, timestamp string
		counts                      counts
		cases                       []string
	}{
		{"contoso: scan-to-email", "suites/contoso.hcl", "1.250", "2026-12-05T06:00:00Z", counts{2, 1, 0, 0},
			[]string{"device can submit through smtp.office365.com", "relay from scanner"}},
		{"fabrikam: lab relay", "suites/fabrikam.hcl", "40.520", "2026-12-05T06:00:02Z", counts{3, 1, 1, 1},
			[]string{"lab CA is trusted", "port 25 is blocked by the ISP", "hostile banner"}},
	} {
		s := doc.Suites[i]
		if s.Name != want.name || s.File != want.file || s.Time != want.time || s.Timestamp != want.timestamp ||
			s.ID != i || s.Hostname != "ci-runner-01" {
			t.Errorf("suite %d: name=%q file=%q time=%q timestamp=%q id=%d hostname=%q", i, s.Name, s.File, s.Time, s.Timestamp, s.ID, s.Hostname)
		}
		if got := (counts{s.Tests, s.Failures, s.Errors, s.Skipped}); got != want.counts {
			t.Errorf("suite %q counts %+v, want %+v", s.Name, got, want.counts)
		}
		var names []string
		for _, tc := range s.Testcases {
			names = append(names, tc.Name)
			if tc.Classname != want.file {
				t.Errorf("%q: classname %q, want %q", tc.Name, tc.Classname, want.file)
			}
		}
		if strings.Join(names, "|") != strings.Join(want.cases, "|") {
			t.Errorf("suite %q testcases %q, want %q", s.Name, names, want.cases)
		}
	}

	pass, fail := doc.Suites[0].Testcases[0], doc.Suites[0].Testcases[1]
	errored, skipped, hostile := doc.Suites[1].Testcases[0], doc.Suites[1].Testcases[1], doc.Suites[1].Testcases[2]

	if pass.Time != "1.234" || pass.Failure != nil || pass.Error != nil || pass.Skipped != nil {
		t.Errorf("passing testcase: %+v", pass)
	}
	if pass.SystemOut == nil || !strings.Contains(pass.SystemOut.Data, "     0ms *: connecting to smtp.office365.com:587 (198.51.100.7)\n") ||
		!strings.HasPrefix(pass.SystemOut.Data, "endpoint: submission\ntarget: smtp.office365.com:587\nresolved_address: 198.51.100.7:587\ntls_version: 1.3\nclient_ip: 203.0.113.5\n\n") {
		t.Errorf("passing testcase system-out:\n%v", pass.SystemOut)
	}

	if fail.Failure == nil || fail.Error != nil {
		t.Fatalf("failing testcase: %+v", fail)
	}
	if fail.Failure.Type != "reputation" ||
		fail.Failure.Message != `rcpt: expected "250", got 550 5.7.606 Access denied, banned sending IP [192.0.2.1] (session ****)` {
		t.Errorf("failure type=%q message=%q", fail.Failure.Type, fail.Failure.Message)
	}
	for _, want := range []string{
		`no: 550 5.7.606 Access denied, banned sending IP [192.0.2.1] (session ****) matched "550 5.7.606-649"`,
		"Diagnosis (reputation): 550 5.7.606",
		"Meaning: The sending IP is on Microsoft's block list.",
		"Fix: Request delisting at https://sender.office.com/",
		"Source: https://learn.microsoft.com/",
		"IP: 192.0.2.1",
	} {
		if !strings.Contains(fail.Failure.Data, want) {
			t.Errorf("failure body lacks %q:\n%s", want, fail.Failure.Data)
		}
	}

	if errored.Error == nil || errored.Failure != nil || errored.Error.Type != "runner" ||
		errored.Error.Message != "ca_file: open lab-ca.pem: no such file or directory" || errored.SystemOut == nil {
		t.Errorf("errored testcase: %+v", errored)
	}
	if skipped.Skipped == nil || skipped.Failure != nil || skipped.Error != nil {
		t.Errorf("skipped testcase: %+v", skipped)
	}
	if hostile.Failure == nil || hostile.Failure.Type != "throttling" {
		t.Errorf("hostile testcase: %+v", hostile)
	}

	props := map[string]string{}
	for _, p := range *doc.Suites[0].Properties {
		if p.Value == "" {
			t.Errorf("empty property %q", p.Name)
		}
		props[p.Name] = p.Value
	}
	for name, value := range map[string]string{
		"description": "Runs before the ISP cutover on 2026-12-05",
		"device can submit through smtp.office365.com.endpoint":         "submission",
		"device can submit through smtp.office365.com.target":           "smtp.office365.com:587",
		"device can submit through smtp.office365.com.resolved_address": "198.51.100.7:587",
		"device can submit through smtp.office365.com.tls_version":      "1.3",
		"device can submit through smtp.office365.com.client_ip":        "203.0.113.5",
		"relay from scanner.resolved_address":                           "198.51.100.25:25",
	} {
		if props[name] != value {
			t.Errorf("property %q = %q, want %q", name, props[name], value)
		}
	}
	if _, ok := props["relay from scanner.tls_version"]; ok {
		t.Error("a check without TLS has a tls_version property")
	}
}

// TestWellFormed checks that hostile server bytes leave a document every
// XML parser accepts, with the bytes shown as visible escapes.
func TestWellFormed(t *testing.T) {
	for name, opts := range map[string]Options{"masked": {Redactor: reporttest.Redactor()}, "unmasked": {}} {
		out := render(t, reporttest.Results(), opts)
		if !utf8.Valid(out) {
			t.Errorf("%s: not UTF-8", name)
		}
		for i, b := range out {
			if b < 0x20 && b != '\t' && b != '\n' && b != '\r' {
				t.Fatalf("%s: control byte %#x at %d: %q", name, b, i, out[max(0, i-40):min(len(out), i+40)])
			}
		}
		dec := xml.NewDecoder(bytes.NewReader(out))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		var doc junit.Testsuites
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		hostile := doc.Suites[1].Testcases[2]
		want := `<script>alert(1)</script> \x1b[31mSERVICE\x1b[0m busy\x00 \xff\xfe ]]> end`
		for where, got := range map[string]string{
			"message":    hostile.Failure.Message,
			"failure":    hostile.Failure.Data,
			"system-out": hostile.SystemOut.Data,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: %s does not show the hostile banner escaped:\n%s", name, where, got)
			}
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
}

// TestSchema validates reports against junit-10.xsd, the schema of
// Jenkins' xunit plugin, with xmllint from Debian's libxml2-utils. The
// schema is a copy in testdata, so the test does not depend on anything
// outside the repository.
func TestSchema(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not found; install libxml2-utils to validate against junit-10.xsd")
	}
	schema, err := filepath.Abs(filepath.Join("testdata", "junit-10.xsd"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, doc := range map[string][]byte{
		"fixture.xml":      fixture(t),
		"unmasked.xml":     render(t, reporttest.Results(), Options{}),
		"empty.xml":        render(t, nil, Options{}),
		"empty-suite.xml":  render(t, []*result.Suite{{Name: "empty", Path: "empty.hcl"}}, Options{}),
		"golden-as-is.xml": mustRead(t, filepath.Join("testdata", "report.golden.xml")),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(xmllint, "--noout", "--schema", schema, path).CombinedOutput()
		if err != nil {
			t.Errorf("%s does not validate against junit-10.xsd: %v\n%s", name, err, out)
		}
	}

	// The schema check must be able to fail: a skipped count on
	// <testsuites> is what junit-10.xsd rejects.
	bad := bytes.Replace(fixture(t), []byte(`<testsuites name="smtpdiag"`), []byte(`<testsuites name="smtpdiag" skipped="1"`), 1)
	path := filepath.Join(dir, "bad.xml")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", schema, path).CombinedOutput(); err == nil {
		t.Errorf("xmllint accepted a skipped count on <testsuites>:\n%s", out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNoUnsafeRunes: no control, format or noncharacter reaches the XML as
// itself, and the document still parses.
func TestNoUnsafeRunes(t *testing.T) {
	out := render(t, reporttest.HostileResults(), Options{})
	if r, ok := reporttest.Unsafe(string(out)); ok {
		t.Errorf("%U reached the XML:\n%q", r, out)
	}
	if err := xml.Unmarshal(out, new(struct{})); err != nil {
		t.Errorf("the document does not parse: %v", err)
	}
	if !bytes.Contains(out, []byte(`\u200bx`)) {
		t.Errorf("the zero-width space is not shown escaped:\n%s", out)
	}
}

// TestInterrupted: an interrupted suite carries an "interrupted" property,
// and a check that never started is skipped with the reason.
func TestInterrupted(t *testing.T) {
	out := string(render(t, reporttest.Interrupted(), Options{}))
	if !strings.Contains(out, `<property name="interrupted" value="the run was interrupted (SIGTERM); 2 of 4 checks did not finish"></property>`) {
		t.Errorf("no interrupted property:\n%s", out)
	}
	if !strings.Contains(out, `<skipped message="not run: the run was interrupted (SIGTERM)"></skipped>`) {
		t.Errorf("the check not run is not skipped with its reason:\n%s", out)
	}
}

// TestSuitePaths: a suite's decision on the ways to send is in its
// <system-out>, one line per path, and the document still validates
// against junit-10.xsd.
func TestSuitePaths(t *testing.T) {
	out := render(t, reporttest.MigrationResults(), Options{Redactor: reporttest.Redactor()})
	var doc struct {
		Suites []struct {
			SystemOut string `xml:"system-out"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil || len(doc.Suites) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	got := strings.Split(strings.TrimSuffix(doc.Suites[0].SystemOut, "\n"), "\n")
	want := []string{
		"Ways scanner@contoso.com can send after the Basic auth switch-off",
		"this run (this tenant, this machine): a connector is out; maybe Basic auth, OAuth, HVE, the ACS relay or Direct Send; nothing remains for certain",
		"maybe  basic_auth   Its check passed, so Basic auth works today for this tenant from this machine; after the switch-off: Basic authentication for SMTP AUTH is disabled by default from the end of December 2026.",
		`maybe  oauth        It was not tested in this run: its check was skipped (enabled = var.client_id != "" && var.client_secret != "").`,
		"maybe  hve          It was not tested in this run.",
		"maybe  acs_relay    It was not tested in this run.",
		"maybe  direct_send  It was not tested in this run.",
		`no     connector    Its check failed: rcpt: expected "250", got 550 5.7.64 TenantAttribution; Relay Access Denied.`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("system-out:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if bytes.Count(out, []byte("<system-out>")) != 2+1 {
		t.Errorf("want the system-out of the two checks that talked to a server and the suite's:\n%s", out)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not found")
	}
	path := filepath.Join(t.TempDir(), "paths.xml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit-10.xsd"), path).CombinedOutput(); err != nil {
		t.Errorf("does not validate against junit-10.xsd: %v\n%s", err, msg)
	}
}

package github

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture is reporttest's run with the checks' lines filled in, and a
// third suite whose path, name, label and failure hold every character
// a workflow command must escape.
func fixture() []*result.Suite {
	suites := reporttest.Results()
	for _, s := range suites {
		for i, c := range s.Checks {
			c.Line = 10*i + 7
		}
	}
	suites = append(suites, &result.Suite{
		Name: "odd: 100%, really", Path: "/work/repo/suites/odd,name:1.hcl", Started: reporttest.Start,
		Checks: []*result.Check{{
			Index: 0, Line: 3, Label: "relay, port 25: 100% blocked", Kind: "smtp", Status: result.Failed, Attempts: 1,
			Failures: []result.Failure{{Expectation: "rcpt", Message: "rcpt: expected 250 (100%), got\r\n::warning::injected | *bold* <b>"}},
		}},
	})
	return suites
}

func TestAnnotations(t *testing.T) {
	var out bytes.Buffer
	if err := WriteAnnotations(&out, fixture(), Options{Redactor: reporttest.Redactor(), Workspace: "/work/repo"}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`::error file=suites/contoso.hcl,line=17,title=contoso%3A scan-to-email › relay from scanner::` +
			`rcpt: expected "250", got 550 5.7.606 Access denied, banned sending IP [192.0.2.1] (session ****)%0A` +
			`no: 550 5.7.606 Access denied, banned sending IP [192.0.2.1] (session ****) matched "550 5.7.606-649"%0A` +
			`diagnosis (reputation): 550 5.7.606 Access denied, banned sending IP [192.0.2.1] (session ****) at RCPT%0A` +
			`fix: Request delisting at https://sender.office.com/ (one address and IP per visit; takes up to 24 hours) and find out why the IP was listed.`,
		`::error file=suites/fabrikam.hcl,line=7,title=fabrikam%3A lab relay › lab CA is trusted::` +
			`error: ca_file: open lab-ca.pem: no such file or directory`,
		`::error file=suites/fabrikam.hcl,line=27,title=fabrikam%3A lab relay › hostile banner::` +
			`unexpected 421 4.3.2 <script>alert(1)</script> \x1b[31mSERVICE\x1b[0m busy\x00 \xff\xfe ]]> end at BANNER%0A` +
			`diagnosis (throttling): 421 4.3.2 <script>alert(1)</script> \x1b[31mSERVICE\x1b[0m busy\x00 \xff\xfe ]]> end at BANNER%0A` +
			`fix: Read the reply text; the server gave no code Exchange Online documents.`,
		`::error file=suites/odd%2Cname%3A1.hcl,line=3,title=odd%3A 100%25%2C really › relay%2C port 25%3A 100%25 blocked::` +
			`rcpt: expected 250 (100%25), got\r\n::warning::injected | *bold* <b>`,
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), out.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
	for _, secret := range reporttest.SecretForms() {
		if strings.Contains(out.String(), secret) {
			t.Errorf("secret %q in the annotations", secret)
		}
	}
}

func TestEscaping(t *testing.T) {
	for _, tc := range []struct{ in, data, property string }{
		{"plain text", "plain text", "plain text"},
		{"100%", "100%25", "100%25"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"x: y, z", "x: y, z", "x%3A y%2C z"},
		{"%0A", "%250A", "%250A"},
		{"::error::", "::error::", "%3A%3Aerror%3A%3A"},
	} {
		if got := EscapeData(tc.in); got != tc.data {
			t.Errorf("EscapeData(%q) = %q, want %q", tc.in, got, tc.data)
		}
		if got := EscapeProperty(tc.in); got != tc.property {
			t.Errorf("EscapeProperty(%q) = %q, want %q", tc.in, got, tc.property)
		}
	}
}

func TestSummary(t *testing.T) {
	var out bytes.Buffer
	if err := WriteSummary(&out, fixture(), Options{Redactor: reporttest.Redactor(), Workspace: "/work/repo"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "summary.golden.md")
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("summary differs from %s:\n--- got\n%s\n--- want\n%s", path, out.Bytes(), want)
	}
	for _, secret := range reporttest.SecretForms() {
		if strings.Contains(out.String(), secret) {
			t.Errorf("secret %q in the summary", secret)
		}
	}
}

func TestSummaryOfAPassingRunAndItsLimit(t *testing.T) {
	pass := []*result.Suite{{Name: "ok", Path: "ok.hcl", Checks: []*result.Check{{Label: "a", Status: result.Passed}}}}
	var out bytes.Buffer
	if err := WriteSummary(&out, pass, Options{}); err != nil {
		t.Fatal(err)
	}
	want := "### ✅ smtpdiag: 1 passed, 0 failed\n\n| suites | checks | passed | failed | errors | skipped |\n|---:|---:|---:|---:|---:|---:|\n| 1 | 1 | 1 | 0 | 0 | 0 |\n\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}

	many := &result.Suite{Name: "many", Path: "many.hcl"}
	for i := range 5 {
		many.Checks = append(many.Checks, &result.Check{Index: i, Label: "c", Status: result.Failed, Failures: []result.Failure{{Message: "no"}}})
	}
	out.Reset()
	if err := WriteSummary(&out, []*result.Suite{many}, Options{MaxRows: 2}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "| ✗ |"); n != 2 || !strings.Contains(out.String(), "\n3 more failed checks are not listed here") {
		t.Errorf("%d rows:\n%s", n, out.String())
	}
}

// TestDeps: the writer depends on the results model only, like every
// reporter: no decoder, protocol library, server or runner.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/smtpdiag/smtpdiag/internal/report/github").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, no := range []string{
			"github.com/hashicorp/hcl", "github.com/zclconf/go-cty", "github.com/emersion/go-smtp", "github.com/miekg/dns",
			"github.com/smtpdiag/smtpdiag/runner", "github.com/smtpdiag/smtpdiag/internal/suite",
			"github.com/smtpdiag/smtpdiag/internal/listener", "github.com/smtpdiag/smtpdiag/internal/simulator",
			"github.com/smtpdiag/smtpdiag/internal/smtpclient", "github.com/smtpdiag/smtpdiag/internal/smtpd",
		} {
			if dep == no || strings.HasPrefix(dep, no+"/") {
				t.Errorf("internal/report/github depends on %s", dep)
			}
		}
	}
}

func TestSummarySaysWhenInterrupted(t *testing.T) {
	var out bytes.Buffer
	if err := WriteSummary(&out, reporttest.Interrupted(), Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "checks did not finish.") {
		t.Errorf("summary of an interrupted run:\n%s", out.String())
	}
}

// TestSummaryHasTheWaysToSend: a suite's decision on the ways to send
// reaches the job summary as a table, its texts escaped and masked.
func TestSummaryHasTheWaysToSend(t *testing.T) {
	suites := reporttest.MigrationResults()
	suites[0].Paths.Paths[5].Reasons[0] = "Its check failed: rcpt: | *bold* <b> " + reporttest.Secret
	var out bytes.Buffer
	if err := WriteSummary(&out, suites, Options{Redactor: reporttest.Redactor()}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"\n#### Ways scanner@contoso.com can send after the Basic auth switch-off\n\nthis run (this tenant, this machine): a connector is out; maybe Basic auth, OAuth, HVE, the ACS relay or Direct Send; nothing remains for certain\n\n| | path | why |\n|---|---|---|\n",
		"| ❔ maybe | Basic auth | Its check passed, so Basic auth works today for this tenant from this machine; after the switch-off: Basic authentication for SMTP AUTH is disabled by default from the end of December 2026. |\n",
		"| ❌ no | Connector | Its check failed: rcpt: \\| \\*bold\\* \\<b\\> \\*\\*\\*\\* |\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	// The counts (2 rows), the failed check (2), the paths (1 + 6).
	if strings.Count(s, "\n| ") != 2+2+7 {
		t.Errorf("rows:\n%s", s)
	}
}

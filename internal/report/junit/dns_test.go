package junit

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
)

// TestDNSChecks renders dns and dnsbl checks, which have no conversation:
// their lookups are the system-out, and blocklist verdicts go with the
// failure, for an smtp rejection's proof too.
func TestDNSChecks(t *testing.T) {
	out := render(t, reporttest.LoopbackDNSResults(), Options{Redactor: reporttest.Redactor()})
	var doc junit.Testsuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 4 || doc.Failures != 3 || doc.Errors != 0 {
		t.Fatalf("tests %d failures %d errors %d", doc.Tests, doc.Failures, doc.Errors)
	}
	cases := doc.Suites[0].Testcases
	if so := cases[0].SystemOut; so == nil || !strings.Contains(so.Data, "resolver: 127.0.0.1:53\n") ||
		!strings.Contains(so.Data, "DNS MX contoso.com. @127.0.0.1:53/udp: NOERROR, 1 record") {
		t.Errorf("dns system-out = %+v", so)
	}
	bl := cases[2]
	if bl.Failure == nil || bl.Failure.Type != "reputation" ||
		!strings.Contains(bl.Failure.Data, "\nBlocklists:\nzen.spamhaus.org: listed in Spamhaus PBL (Spamhaus-maintained) (127.0.0.11): end-user range\n"+
			"bl.spamcop.net: inconclusive: ") {
		t.Errorf("dnsbl failure = %+v", bl.Failure)
	}
	if smtp := cases[3]; smtp.Failure == nil || !strings.Contains(smtp.Failure.Data, "Blocklists:\nzen.spamhaus.org: listed") {
		t.Errorf("smtp proof = %+v", smtp.Failure)
	}
	if strings.Contains(string(out), reporttest.Secret) {
		t.Error("secret in the report")
	}
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		schema, _ := filepath.Abs(filepath.Join("testdata", "junit-10.xsd"))
		path := filepath.Join(t.TempDir(), "dns.xml")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command(xmllint, "--noout", "--schema", schema, path).CombinedOutput(); err != nil {
			t.Errorf("does not validate against junit-10.xsd: %v\n%s", err, msg)
		}
	}
}

package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/report/jsonreport"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// TestDemoMigrationMatrix: the demo runs suites/basic-auth-migration.hcl
// against the simulator and the test identity provider, on loopback only,
// also when the environment holds a real tenant's credentials (they must
// not reach the demo), and its results hold the matrix: yes for the paths
// the simulator serves, maybe for the ACS relay, which gets no
// credentials, no for the connector, which the simulator does not have.
func TestDemoMigrationMatrix(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	e := env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, environ: []string{
		"HOME=" + dir,
		"SMTP_PASSWORD=a-real-password", "SMTP_ACS_USERNAME=acs.real.tenant", "SMTP_ACS_CLIENT_SECRET=a-real-secret",
		"SMTPDIAG_VAR_acs_host=smtp.azurecomm.net", "SMTPDIAG_VAR_check_mx_record=true",
	}}
	out := filepath.Join(dir, "demo.json")
	if code := run([]string{"demo", "--no-color", "--json", out}, e); code != exitPassed {
		t.Fatalf("demo exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	file, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	rep, err := jsonreport.Read(file)
	if err != nil {
		t.Fatal(err)
	}
	var migration *result.Suite
	for _, s := range rep.Results() {
		if s.Path == demoMigrationPath {
			migration = s
		}
	}
	if migration == nil || migration.Paths == nil {
		t.Fatalf("the demo did not run the migration suite, or it has no matrix:\n%s", stdout.String())
	}
	for _, c := range migration.Checks {
		if c.Conversation != nil {
			if host, _, err := net.SplitHostPort(c.Conversation.RemoteAddr); err != nil || !net.ParseIP(host).IsLoopback() {
				t.Errorf("%q talked to %q, not to loopback", c.Label, c.Conversation.RemoteAddr)
			}
		}
		if c.Token != nil && !strings.HasPrefix(c.Token.Authority, "https://127.0.0.1:") {
			t.Errorf("%q got its token from %s", c.Label, c.Token.Authority)
		}
		if c.Kind == "dns" && (c.Status != result.Skipped || len(c.Lookups) > 0) {
			t.Errorf("the demo asked DNS: %q %s", c.Label, c.Status)
		}
	}
	want := map[string]string{"basic_auth": "maybe", "oauth": "yes", "hve": "yes", "acs_relay": "maybe", "direct_send": "yes", "connector": "no"}
	for _, v := range migration.Paths.Paths {
		if v.Usable != want[v.Path] {
			t.Errorf("%s: %s, want %s (%q)", v.Path, v.Usable, want[v.Path], v.Reasons)
		}
	}
	if migration.Paths.Subject != "scanner@contoso.com" {
		t.Errorf("the matrix is about %q", migration.Paths.Subject)
	}
	for _, secret := range []string{"a-real-password", "a-real-secret", "acs.real.tenant"} {
		if strings.Contains(stdout.String(), secret) {
			t.Errorf("the environment's %q reached the demo", secret)
		}
	}
	// The summary ends with the matrix, then the closing line and the
	// demo's verdict.
	text := stdout.String()
	at := strings.Index(text, "\nWays scanner@contoso.com can send after the Basic auth switch-off\n")
	if at < 0 || strings.Index(text[at:], "\n13 passed, 2 failed, 2 skipped\n\nDemo OK") < 0 {
		t.Errorf("the matrix does not close the summary:\n%s", text)
	}
}

package suites_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/oauthlab"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/runner"
	"github.com/smtpdiag/smtpdiag/suites"
)

const migrationFile = "basic-auth-migration.hcl"

// migrationHosts are the default host and port of each path's check.
var migrationHosts = map[string]string{
	"basic_auth":  "smtp.office365.com:587",
	"oauth":       "smtp.office365.com:587",
	"hve":         "smtp.hve.mx.microsoft:587",
	"acs_relay":   "smtp.azurecomm.net:587",
	"direct_send": "contoso-com.mail.protection.outlook.com:25",
	"connector":   "contoso-com.mail.protection.outlook.com:25",
}

// TestMigrationSuiteValidatesWithoutEnvironment: smtpdiag validate with
// only the identity variables and no environment decodes every path's
// check (the credentials, from env(), are not known, so no check is
// disabled), each at Microsoft's host for the path; every path is proven
// by one check, none sends a message, and the embedded copy is the file.
func TestMigrationSuiteValidatesWithoutEnvironment(t *testing.T) {
	l := suite.NewLoader(suite.Options{Vars: identity[migrationFile], Environ: []string{}, Validate: true})
	s, diags := l.LoadFile(migrationFile)
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 100)
		t.Fatalf("does not validate:\n%s", b.String())
	}
	var paths []string
	for _, c := range s.Checks {
		paths = append(paths, c.Path)
		if c.Disabled != "" || c.Endpoint == nil || c.Expect == nil {
			t.Errorf("check %q was not decoded under validate: %+v", c.Label, c)
			continue
		}
		if got := net.JoinHostPort(c.Endpoint.Host, strconv.Itoa(c.Endpoint.Port)); got != migrationHosts[c.Path] {
			t.Errorf("check %q (%s) goes to %s, want %s", c.Label, c.Path, got, migrationHosts[c.Path])
		}
		if c.Message != nil {
			t.Errorf("check %q has a message block: the suite must send nothing", c.Label)
		}
	}
	if !slices.Equal(paths, suite.PathIDs) {
		t.Errorf("the checks prove %v, want every path once, in order: %v", paths, suite.PathIDs)
	}
	if o := s.Checks[1].Auth; o == nil || o.OAuth == nil || o.OAuth.Authority != "https://login.microsoftonline.com" || o.OAuth.Tenant != "contoso.com" {
		t.Errorf("oauth: %+v", o)
	}
	src, err := os.ReadFile(migrationFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, suites.BasicAuthMigration) {
		t.Error("the embedded suite is not the file")
	}
}

// TestMigrationSuiteEnabledByCredentials: run without any credential
// tests the two paths that need none; each credential pair turns its
// path's check on; every secret is masked.
func TestMigrationSuiteEnabledByCredentials(t *testing.T) {
	s, problems := load(t, migrationFile, identity[migrationFile])
	if s == nil {
		t.Fatalf("does not decode:\n%s", problems)
	}
	disabled := map[string]string{}
	for _, c := range s.Checks {
		disabled[c.Path] = c.Disabled
	}
	want := map[string]string{
		"basic_auth":  `enabled = var.password != ""`,
		"oauth":       `enabled = var.client_id != "" && var.client_secret != ""`,
		"hve":         `enabled = var.hve_account != "" && var.hve_password != ""`,
		"acs_relay":   `enabled = var.acs_username != "" && var.acs_client_secret != ""`,
		"direct_send": "",
		"connector":   "",
	}
	for p, w := range want {
		if disabled[p] != w {
			t.Errorf("%s: disabled %q, want %q", p, disabled[p], w)
		}
	}

	secrets := map[string]string{
		"SMTP_PASSWORD": "mailbox-Pa55", "SMTP_OAUTH_CLIENT_ID": "11111111-2222-4333-8444-555555555555",
		"SMTP_OAUTH_CLIENT_SECRET": "oauth~Secret.1", "SMTP_HVE_ACCOUNT": "scanner-hve@contoso.com",
		"SMTP_HVE_PASSWORD": "hve-Pa55", "SMTP_ACS_USERNAME": "acs.11111111.22222222", "SMTP_ACS_CLIENT_SECRET": "acs~Secret.2",
	}
	var environ []string
	for k, v := range secrets {
		environ = append(environ, k+"="+v)
	}
	l := suite.NewLoader(suite.Options{Vars: identity[migrationFile], Environ: environ})
	s, diags := l.LoadFile(migrationFile)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, c := range s.Checks {
		if c.Disabled != "" || c.Endpoint == nil {
			t.Errorf("%s is off with every credential set: %q", c.Path, c.Disabled)
		}
	}
	for _, name := range []string{"SMTP_PASSWORD", "SMTP_OAUTH_CLIENT_SECRET", "SMTP_HVE_PASSWORD", "SMTP_ACS_CLIENT_SECRET"} {
		if !slices.Contains(s.Sensitive, secrets[name]) {
			t.Errorf("%s is not masked", name)
		}
	}
}

// TestMigrationSuiteComments: each path's check says, from the knowledge
// base, what a device needs to use the path, keeps the UNVERIFIED marks,
// and the connector's says how to prove a certificate-based connector.
func TestMigrationSuiteComments(t *testing.T) {
	src, err := os.ReadFile(migrationFile)
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?m)((?:^#.*\n)+)smtp "([^"]+)" \{\n  path\s+= "([a-z_]+)"`)
	found := 0
	for _, m := range block.FindAllStringSubmatch(string(src), -1) {
		found++
		comment, label, path := m[1], m[2], m[3]
		for _, word := range []string{"TLS", "port", "recipients"} {
			if !strings.Contains(comment, word) {
				t.Errorf("%s (%q): the comment does not say what the device needs (%s)", path, label, word)
			}
		}
		switch path {
		case "basic_auth", "hve", "acs_relay":
			if !strings.Contains(comment, "UNVERIFIED") {
				t.Errorf("%s: the knowledge base's UNVERIFIED marks are lost", path)
			}
		case "connector":
			if !strings.Contains(comment, "Without\n# connector_certificate this check proves an IP-matched connector only") ||
				!strings.Contains(comment, "-var connector_certificate=relay.pem") {
				t.Errorf("connector: the comment does not say how to prove a certificate-based connector")
			}
		}
	}
	if found != len(suite.PathIDs) {
		t.Errorf("%d commented path checks, want %d", found, len(suite.PathIDs))
	}
}

// TestMigrationSuiteOAuth runs the suite's OAuth check against the test
// identity provider and a simulator that checks its tokens, through the
// suite's own variables for the authority and its CA: the app that may
// send as the mailbox passes and its path is a yes; an app without
// SMTP.SendAsApp is refused (535 5.7.3) and its path is a no.
func TestMigrationSuiteOAuth(t *testing.T) {
	lab, err := oauthlab.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	dir := t.TempDir()
	simCA, err := lab.Sim.WriteCAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	idpCA := filepath.Join(dir, "idp-ca.pem")
	if err := os.WriteFile(idpCA, lab.IdP.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	subHost, subPort, _ := net.SplitHostPort(lab.Sim.SubmissionAddr)
	mxHost, mxPort, _ := net.SplitHostPort(lab.Sim.MXAddr)
	for _, tc := range []struct {
		app, status, usable, reason string
	}{
		{oauthlab.SendApp, string(result.Passed), "yes", "Its check passed: OAuth works today"},
		{oauthlab.NoRoleApp, string(result.Failed), "no", `Its check failed: auth: expected "235", got 535 5.7.3`},
	} {
		vars := append(slices.Clone(migrationVars),
			"submission_host="+subHost, "submission_port="+subPort, "mx_host="+mxHost, "mx_port="+mxPort,
			"ca_file="+simCA, "check_mx_record=false",
			"tenant="+oauthlab.TenantID, "client_id="+tc.app, "client_secret="+oauthlab.Secret,
			"oauth_authority="+lab.IdP.URL, "oauth_ca_file="+idpCA)
		s, problems := load(t, migrationFile, vars)
		if s == nil {
			t.Fatalf("does not decode:\n%s", problems)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res := runner.Run(ctx, []*suite.Suite{s}, runner.Options{Timeout: 10 * time.Second,
			ResolvConf: filepath.Join(dir, "no-resolv.conf")}, nil)[0]
		cancel()
		var oauth *result.Check
		for _, c := range res.Checks {
			if c.Path == "oauth" {
				oauth = c
			}
		}
		if oauth == nil || string(oauth.Status) != tc.status {
			t.Fatalf("%s: the OAuth check %+v, want %s", tc.app, oauth, tc.status)
		}
		if res.Paths == nil || res.Paths.Subject != "scanner@contoso.com" {
			t.Fatalf("%s: paths %+v", tc.app, res.Paths)
		}
		for _, v := range res.Paths.Paths {
			if v.Path == "oauth" && (v.Usable != tc.usable || !strings.HasPrefix(v.Reasons[0], tc.reason)) {
				t.Errorf("%s: oauth %s %q, want %s %q", tc.app, v.Usable, v.Reasons, tc.usable, tc.reason)
			}
		}
	}
}

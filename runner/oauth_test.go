package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/oauth"
	"github.com/smtpdiag/smtpdiag/internal/oauthlab"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// startLab starts the test identity provider and the simulator that
// trusts it, and writes their CAs to dir, as sim-ca.pem and idp-ca.pem.
func startLab(t *testing.T, dir string) *oauthlab.Lab {
	t.Helper()
	lab, err := oauthlab.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	for name, pem := range map[string][]byte{"sim-ca.pem": lab.Sim.CAPEM, "idp-ca.pem": lab.IdP.CAPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), pem, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return lab
}

// oauthSuite loads a suite file written to dir: an endpoint "submission"
// for the simulator, then checks, in which {{authority}}, {{tenant}} and
// {{mailbox}} stand for the lab's.
func oauthSuite(t *testing.T, lab *oauthlab.Lab, dir, checks string, opts suite.Options) *suite.Suite {
	t.Helper()
	_, port, _ := net.SplitHostPort(lab.Sim.SubmissionAddr)
	src := fmt.Sprintf(`
variable "secret" {
  sensitive = true
  default   = %q
}
endpoint "submission" {
  host    = "127.0.0.1"
  port    = %s
  ca_file = "sim-ca.pem"
}
`, oauthlab.Secret, port) + strings.NewReplacer("{{authority}}", lab.IdP.URL, "{{tenant}}", oauthlab.TenantID,
		"{{mailbox}}", oauthlab.Mailbox).Replace(checks)
	path := filepath.Join(dir, "oauth.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if opts.Environ == nil {
		opts.Environ = []string{}
	}
	s, diags := suite.NewLoader(opts).LoadFile(path)
	if diags.HasErrors() {
		t.Fatalf("suite does not load: %v", diags)
	}
	return s
}

// appOnly is an smtp check with an app-only oauth block: clientID, the
// credential lines, and more lines of the check.
func appOnly(label, clientID, credential, more string) string {
	return fmt.Sprintf(`
smtp %q {
  endpoint = endpoint.submission
  auth {
    username = "{{mailbox}}"
    oauth {
      tenant    = "{{tenant}}"
      client_id = %q
      %s
      authority = "{{authority}}"
      ca_file   = "idp-ca.pem"
    }
  }
  %s
}
`, label, clientID, credential, more)
}

// runOAuth runs s with a run Redactor, as smtpdiag run does, and returns
// the checks by label and that Redactor.
func runOAuth(t *testing.T, s *suite.Suite, opts Options) (map[string]*result.Check, *redact.Redactor) {
	t.Helper()
	opts.Redactor = Redactor(s)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	results := Run(ctx, []*suite.Suite{s}, opts, nil)
	checks := map[string]*result.Check{}
	for _, c := range results[0].Checks {
		checks[c.Label] = c
	}
	return checks, opts.Redactor
}

func transcriptText(c *result.Check) string {
	var b strings.Builder
	for _, l := range c.TranscriptLines() {
		b.WriteString(l.String() + "\n")
	}
	return b.String()
}

// TestOAuthClientSecret: the token comes from the identity provider before
// the conversation, goes out with AUTH XOAUTH2 and is accepted; the
// transcript starts with the request and the token's claims, and the
// result records them, without the token.
func TestOAuthClientSecret(t *testing.T) {
	dir := t.TempDir()
	lab := startLab(t, dir)
	s := oauthSuite(t, lab, dir, appOnly("app-only", oauthlab.SendApp, "client_secret = var.secret", `expect { auth = "235 2.7.0" }`), suite.Options{})
	if a := s.Checks[0].Auth; a.Mechanism != "XOAUTH2" || a.OAuth == nil || a.OAuth.ClientSecret != oauthlab.Secret {
		t.Fatalf("auth %+v", a)
	}
	checks, red := runOAuth(t, s, Options{})
	c := checks["app-only"]
	if c.Status != result.Passed {
		t.Fatalf("%s %+v %+v\n%s", c.Status, c.Failures, c.Diagnosis, transcriptText(c))
	}
	tok := c.Token
	if tok == nil || tok.Outcome != "acquired" || tok.Grant != "client_credentials" || tok.Credential != "client secret" ||
		tok.Scope != oauth.AppOnlyScope || tok.Claims == nil || !slices.Equal(tok.Claims.Roles, []string{"SMTP.SendAsApp"}) ||
		tok.Claims.TenantID != oauthlab.TenantID || tok.Claims.AppID != oauthlab.SendApp || len(tok.Problems) != 0 {
		t.Fatalf("token record %+v", tok)
	}
	lines := c.TranscriptLines()
	if len(lines) < 4 || !strings.HasPrefix(lines[0].Text, "OAuth client_credentials: authority "+lab.IdP.URL) ||
		lines[1].Text != "OAuth token: acquired" || !strings.HasPrefix(lines[2].Text, "OAuth claims: aud https://outlook.office365.com, roles SMTP.SendAsApp") ||
		!strings.Contains(lines[3].Text, "connect") && !strings.Contains(lines[3].Text, "127.0.0.1") {
		t.Errorf("transcript head:\n%s", transcriptText(c))
	}
	text := transcriptText(c)
	if !strings.Contains(text, "C: AUTH XOAUTH2 ****") || strings.Index(text, "OAuth token") > strings.Index(text, "AUTH XOAUTH2") {
		t.Errorf("transcript:\n%s", text)
	}
	issued := lab.IdP.IssuedTokens()
	if len(issued) != 1 {
		t.Fatalf("%d tokens issued", len(issued))
	}
	// Neither the token nor the secret is in the result, and the run's
	// Redactor masks the token in every form XOAUTH2 carries it.
	b, _ := json.Marshal(checks)
	xoauth := base64.StdEncoding.EncodeToString([]byte("user=" + oauthlab.Mailbox + "\x01auth=Bearer " + issued[0] + "\x01\x01"))
	for _, secret := range []string{issued[0], strings.Split(issued[0], ".")[2], oauthlab.Secret, xoauth} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the result holds a secret (%.12s...)", secret)
		}
	}
	if got := red.String("AUTH XOAUTH2 " + xoauth + " " + issued[0]); got != "AUTH XOAUTH2 **** ****" {
		t.Errorf("the run's Redactor gives %.80q", got)
	}
}

// TestOAuthCertificate: a certificate credential, given as files and as
// PEM text read with file(), gets a token (a client assertion signed with
// the key), and the key is a sensitive value of the suite.
func TestOAuthCertificate(t *testing.T) {
	dir := t.TempDir()
	lab := startLab(t, dir)
	os.WriteFile(filepath.Join(dir, "app.crt"), lab.Cert.CertPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "app.key"), lab.Cert.KeyPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "both.pem"), append(append([]byte{}, lab.Cert.CertPEM...), lab.Cert.KeyPEM...), 0o600)
	s := oauthSuite(t, lab, dir,
		appOnly("files", oauthlab.SendApp, `certificate = "app.crt"
      key = "app.key"`, `expect { auth = 235 }`)+
			appOnly("file()", oauthlab.SendApp, `certificate = file("app.crt")
      key = file("app.key")
      scope = "https://outlook.office365.com/.default "`, `expect { auth = 235 }`)+
			appOnly("one PEM", oauthlab.SendApp, `certificate = "both.pem"
      scope = "00000002-0000-0ff1-ce00-000000000000/.default"`, `expect { auth = 235 }`), suite.Options{})
	if o := s.Checks[0].Auth.OAuth; o.CertificateFile != filepath.Join(dir, "app.crt") || o.KeyFile != filepath.Join(dir, "app.key") {
		t.Errorf("files %q %q", o.CertificateFile, o.KeyFile)
	}
	keyLines := pemBodyLines(lab.Cert.KeyPEM)
	for _, line := range keyLines {
		if got := s.Redactor.String("x " + line + " x"); got != "x **** x" {
			t.Fatalf("the suite's Redactor does not mask the key line %.12s...", line)
		}
	}
	checks, _ := runOAuth(t, s, Options{})
	want := "certificate " + strings.ToUpper(thumbprint(t, lab))
	for _, label := range []string{"files", "file()", "one PEM"} {
		c := checks[label]
		if c.Status != result.Passed || c.Token == nil || c.Token.Credential != want {
			t.Errorf("%s: %s %+v %+v", label, c.Status, c.Failures, c.Token)
		}
	}
	for _, r := range lab.IdP.Requests() {
		if r.Endpoint == "token" && r.Credential != "client_assertion" {
			t.Errorf("a token request with %q", r.Credential)
		}
	}
}

func thumbprint(t *testing.T, lab *oauthlab.Lab) string {
	t.Helper()
	tok, err := oauth.Acquire(context.Background(), oauth.Config{Tenant: oauthlab.TenantID, ClientID: oauthlab.SendApp,
		CertificatePEM: lab.Cert.CertPEM, KeyPEM: lab.Cert.KeyPEM, Authority: lab.IdP.URL, ExtraRoots: lab.IdP.CAPEM}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(tok.Record.Credential, "certificate ")
}

// pemBodyLines are the base64 lines of a PEM text.
func pemBodyLines(p []byte) []string {
	var out []string
	for _, line := range strings.Split(string(p), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// TestOAuthTokenSharedByChecks: checks with the same oauth block share one
// token request per run, also when they run at once; another block is
// another request.
func TestOAuthTokenSharedByChecks(t *testing.T) {
	dir := t.TempDir()
	lab := startLab(t, dir)
	s := oauthSuite(t, lab, dir,
		appOnly("first", oauthlab.SendApp, "client_secret = var.secret", `expect { auth = 235 }`)+
			appOnly("second", oauthlab.SendApp, "client_secret = var.secret", `expect { auth = 235 }`)+
			appOnly("third", oauthlab.SendApp, "client_secret = var.secret", `expect { auth = 235 }`), suite.Options{})
	checks, _ := runOAuth(t, s, Options{Parallel: 3})
	var outcomes []string
	for _, label := range []string{"first", "second", "third"} {
		c := checks[label]
		if c.Status != result.Passed {
			t.Errorf("%s: %s %+v", label, c.Status, c.Failures)
		}
		outcomes = append(outcomes, c.Token.Outcome)
	}
	slices.Sort(outcomes)
	if n := lab.IdP.TokenRequests(); n != 1 || !slices.Equal(outcomes, []string{"acquired", "cached", "cached"}) {
		t.Errorf("%d token requests for three checks; outcomes %v", n, outcomes)
	}
	if c := checks["second"]; !strings.Contains(transcriptText(c), "OAuth token: ") {
		t.Errorf("transcript:\n%s", transcriptText(c))
	}
}

// TestOAuthClaimsFlaggedBeforeSending: a token without SMTP.SendAsApp is
// flagged in the transcript before AUTH, still sent, refused by the
// simulator with 535 5.7.3, and explained as a refused token (not a
// wrong password) together with what was flagged.
func TestOAuthClaimsFlaggedBeforeSending(t *testing.T) {
	dir := t.TempDir()
	lab := startLab(t, dir)
	s := oauthSuite(t, lab, dir, appOnly("no role", oauthlab.NoRoleApp, "client_secret = var.secret", `expect { auth = 235 }`), suite.Options{})
	checks, _ := runOAuth(t, s, Options{})
	c := checks["no role"]
	text := transcriptText(c)
	flagged := strings.Index(text, "OAuth claims problem: roles: the application permissions (none) lack SMTP.SendAsApp")
	sent := strings.Index(text, "C: AUTH XOAUTH2 ****")
	if flagged < 0 || sent < 0 || flagged > sent || !strings.Contains(text, "S: 535 5.7.3 Authentication unsuccessful") {
		t.Fatalf("transcript:\n%s", text)
	}
	if c.Status != result.Failed || len(c.Token.Problems) != 1 || !strings.HasPrefix(c.Token.Problems[0], "roles: ") {
		t.Fatalf("%s %+v", c.Status, c.Token)
	}
	d := c.Diagnosis
	if d == nil || d.Category != result.Auth || d.Code != "535 5.7.3" || !strings.Contains(d.Meaning, "refused the access token sent with AUTH XOAUTH2") ||
		!strings.Contains(d.Meaning, "Before it was sent, the access token was flagged: roles: ") ||
		!strings.Contains(d.Fix, "New-ServicePrincipal") {
		t.Errorf("diagnosis %+v", d)
	}
}

// TestOAuthTokenErrors: every refusal of the identity provider fails the
// check before any SMTP traffic, as "auth: token: ...", with the
// knowledge base's explanation of its AADSTS code; never a runner error.
func TestOAuthTokenErrors(t *testing.T) {
	dir := t.TempDir()
	lab := startLab(t, dir)
	os.WriteFile(filepath.Join(dir, "other.crt"), lab.OtherCert.CertPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "other.key"), lab.OtherCert.KeyPEM, 0o600)
	device := func(label, clientID, scope string) string {
		return fmt.Sprintf(`
smtp %q {
  endpoint = endpoint.submission
  auth {
    username = "{{mailbox}}"
    oauth {
      tenant    = "{{tenant}}"
      client_id = %q
      flow      = "device_code"
      %s
      authority = "{{authority}}"
      ca_file   = "idp-ca.pem"
    }
  }
}
`, label, clientID, scope)
	}
	tenantless := strings.Replace(appOnly("unknown tenant", oauthlab.SendApp, "client_secret = var.secret", ""),
		`tenant    = "{{tenant}}"`, `tenant    = "fabrikam.onmicrosoft.com"`, 1)
	s := oauthSuite(t, lab, dir,
		appOnly("invalid secret", oauthlab.SendApp, `client_secret = "not-the-secret-value"`, "")+
			appOnly("expired secret", oauthlab.SendApp, fmt.Sprintf("client_secret = %q", oauthlab.ExpiredSecret), "")+
			appOnly("app not in tenant", oauthlab.UnknownApp, "client_secret = var.secret", "")+
			tenantless+
			device("consent missing", oauthlab.ConsentlessApp, "")+
			device("wrong delegated scope", oauthlab.PublicApp, `scope = "https://outlook.office.com/"`)+
			appOnly("scope without /.default", oauthlab.SendApp, `client_secret = var.secret
      scope = "https://outlook.office365.com/SMTP.SendAsApp"`, "")+
			appOnly("unregistered certificate", oauthlab.SendApp, `certificate = "other.crt"
      key = "other.key"`, ""),
		suite.Options{})
	approve := func(p oauth.DevicePrompt) {
		go lab.IdP.Approve(p.UserCode, oauthlab.Mailbox)
	}
	checks, _ := runOAuth(t, s, Options{DevicePrompt: approve})
	for label, code := range map[string]string{
		"invalid secret":           "AADSTS7000215",
		"expired secret":           "AADSTS7000222",
		"app not in tenant":        "AADSTS700016",
		"unknown tenant":           "AADSTS90002",
		"consent missing":          "AADSTS65001",
		"wrong delegated scope":    "AADSTS70011",
		"scope without /.default":  "AADSTS1002012",
		"unregistered certificate": "AADSTS700027",
	} {
		c := checks[label]
		if c == nil {
			t.Fatalf("no check %q", label)
		}
		d := c.Diagnosis
		if c.Status != result.Failed || len(c.Failures) != 1 || c.Failures[0].Expectation != "auth" ||
			!strings.HasPrefix(c.Failures[0].Message, "auth: token: ") || !strings.Contains(c.Failures[0].Message, code) {
			t.Errorf("%s: %s %+v", label, c.Status, c.Failures)
			continue
		}
		entry, known := knowledge.ExplainTokenError(code)
		if !known || d == nil || d.Code != code || !strings.HasPrefix(d.Meaning, entry.Meaning) || d.Setting != entry.Setting ||
			!strings.HasPrefix(d.Fix, entry.Fix) || d.Source != entry.Source ||
			!strings.Contains(d.Fix, "correlation ID "+c.Token.CorrelationID) || c.Token.CorrelationID == "" {
			t.Errorf("%s: diagnosis %+v", label, d)
		}
		if c.Conversation != nil || c.Token.Outcome != "failed" || c.Token.AADSTS != code || c.Token.ErrorKind != "refused" {
			t.Errorf("%s: conversation %v, token %+v", label, c.Conversation != nil, c.Token)
		}
		if text := transcriptText(c); !strings.Contains(text, "OAuth token: failed: ") || !strings.Contains(text, code) {
			t.Errorf("%s: transcript\n%s", label, text)
		}
	}
}

// TestOAuthDeviceCode: the device code flow hands its prompt to
// DevicePrompt and waits; a scripted sign-in from another goroutine
// completes it and the user's token is accepted for their mailbox. No
// sign-in before the check's deadline fails the check, saying so.
func TestOAuthDeviceCode(t *testing.T) {
	dir := t.TempDir()
	lab := startLab(t, dir)
	check := func(label, timeout string) string {
		return fmt.Sprintf(`
smtp %q {
  endpoint      = endpoint.submission
  check_timeout = %q
  auth {
    username = "{{mailbox}}"
    oauth {
      tenant    = "contoso.onmicrosoft.com"
      client_id = %q
      flow      = "device_code"
      authority = "{{authority}}"
      ca_file   = "idp-ca.pem"
    }
  }
  expect { auth = 235 }
}
`, label, timeout, oauthlab.PublicApp)
	}
	s := oauthSuite(t, lab, dir, check("signs in", "30s"), suite.Options{})
	prompts := make(chan oauth.DevicePrompt, 1)
	go func() {
		p := <-prompts
		if err := lab.IdP.Approve(p.UserCode, oauthlab.Mailbox); err != nil {
			t.Error(err)
		}
	}()
	checks, _ := runOAuth(t, s, Options{DevicePrompt: func(p oauth.DevicePrompt) { prompts <- p }})
	c := checks["signs in"]
	if c.Status != result.Passed || c.Token.Grant != "device_code" || c.Token.Scope != oauth.DelegatedScope ||
		c.Token.Claims == nil || c.Token.Claims.UPN != oauthlab.Mailbox || !slices.Equal(c.Token.Claims.Scopes, []string{"SMTP.Send"}) {
		t.Fatalf("%s %+v %+v\n%s", c.Status, c.Failures, c.Token, transcriptText(c))
	}

	s = oauthSuite(t, lab, dir, check("nobody signs in", "1500ms"), suite.Options{})
	prompted := false
	checks, _ = runOAuth(t, s, Options{DevicePrompt: func(oauth.DevicePrompt) { prompted = true }})
	c = checks["nobody signs in"]
	if c.Status != result.Failed || !prompted || len(c.Failures) != 1 ||
		!strings.Contains(c.Failures[0].Message, "auth: token: device code sign-in: nobody completed the sign-in before the deadline") ||
		!strings.Contains(c.Failures[0].Message, "the check's deadline of 1.5s passed") {
		t.Fatalf("%s %+v", c.Status, c.Failures)
	}
	if d := c.Diagnosis; d == nil || !strings.Contains(d.Meaning, "Nobody completed the device code sign-in") {
		t.Errorf("diagnosis %+v", d)
	}

	// An interruption while the check waits for the sign-in: the check
	// did not run, and says why.
	s = oauthSuite(t, lab, dir, check("interrupted", "30s"), suite.Options{})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	results := Run(ctx, []*suite.Suite{s}, Options{DevicePrompt: func(oauth.DevicePrompt) {
		cancel(fmt.Errorf("the run was interrupted (SIGINT)"))
	}}, nil)
	c = results[0].Checks[0]
	if c.Status != result.Skipped || c.Error != "not run: the run was interrupted (SIGINT)" || c.Token == nil || c.Token.Outcome != "failed" ||
		results[0].Unfinished() != 1 {
		t.Errorf("%s %q %+v", c.Status, c.Error, c.Token)
	}
}

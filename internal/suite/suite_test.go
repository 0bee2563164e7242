package suite

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/redact"
)

// load decodes src as a suite named name in dir and fails the test on any
// error diagnostic.
func load(t *testing.T, opts Options, filename, src string) *Suite {
	t.Helper()
	if opts.Environ == nil {
		opts.Environ = []string{}
	}
	l := NewLoader(opts)
	s, diags := l.LoadSource(filename, []byte(src))
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 0)
		t.Fatalf("unexpected diagnostics:\n%s", b.String())
	}
	return s
}

// loadDiags decodes src and returns the rendered diagnostics.
func loadDiags(t *testing.T, opts Options, src string) string {
	t.Helper()
	if opts.Environ == nil {
		opts.Environ = []string{}
	}
	l := NewLoader(opts)
	_, diags := l.LoadSource("test.hcl", []byte(src))
	var b bytes.Buffer
	if err := l.WriteDiagnostics(&b, diags, false, 0); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }

func pattern(t *testing.T, s string) assertions.Pattern {
	t.Helper()
	p, err := assertions.ParsePattern(s)
	if err != nil {
		t.Fatalf("ParsePattern(%q): %v", s, err)
	}
	return p
}

func code(t *testing.T, c int) assertions.Pattern {
	t.Helper()
	p, err := assertions.PatternFromCode(c)
	if err != nil {
		t.Fatalf("PatternFromCode(%d): %v", c, err)
	}
	return p
}

func comparison(t *testing.T, s string) assertions.Comparison {
	t.Helper()
	c, err := assertions.ParseComparison(s)
	if err != nil {
		t.Fatalf("ParseComparison(%q): %v", s, err)
	}
	return c
}

func TestFullSuite(t *testing.T) {
	l := NewLoader(Options{Environ: []string{"FULL_SMTP_PASSWORD=correct horse"}})
	path := filepath.Join("testdata", "valid", "full.hcl")
	s, diags := l.LoadFile(path)
	// The two assert blocks are decoded and checked against the result
	// object's type; they are evaluated once the check has run (they
	// used to get a warning each that they were not evaluated).
	if len(diags) != 0 {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 0)
		t.Fatalf("unexpected diagnostics:\n%s", b.String())
	}

	if s.Path != path || s.Name != "contoso: scan-to-email" || s.Description != "Runs before the ISP cutover" || s.Parallel != 2 {
		t.Errorf("suite header: path %q name %q description %q parallel %d", s.Path, s.Name, s.Description, s.Parallel)
	}
	if s.DeclRange.Filename != path || s.DeclRange.Start.Line != 4 {
		t.Errorf("DeclRange = %v, want the suite block at line 4", s.DeclRange)
	}

	// Variables, in file order, with their values and sources.
	wantVars := []struct {
		name      string
		ty        cty.Type
		value     cty.Value
		sensitive bool
		desc      string
	}{
		{"site", cty.String, cty.StringVal("scan-to-email"), false, "Which site this suite checks"},
		{"domain", cty.String, cty.StringVal("contoso.com"), false, ""},
		{"password", cty.String, cty.StringVal("correct horse"), true, ""},
		{"recipients", cty.List(cty.String), cty.ListVal([]cty.Value{cty.StringVal("helpdesk"), cty.StringVal("scans")}), false, ""},
		{"port", cty.Number, cty.NumberIntVal(587), false, ""},
		{"strict", cty.Bool, cty.True, false, ""},
	}
	if len(s.Variables) != len(wantVars) {
		t.Fatalf("got %d variables, want %d", len(s.Variables), len(wantVars))
	}
	for i, w := range wantVars {
		v := s.Variables[i]
		if v.Name != w.name || !v.Type.Equals(w.ty) || !v.Value.RawEquals(w.value) || v.Sensitive != w.sensitive ||
			v.Description != w.desc || v.Source != SourceDefault {
			t.Errorf("variable %d = {%s %s %#v sensitive=%v %q %q}, want %+v", i, v.Name, v.Type.FriendlyName(),
				v.Value, v.Sensitive, v.Description, v.Source, w)
		}
	}
	if got := s.Variables[0].DeclRange; got.Start.Line != 10 {
		t.Errorf("variable site DeclRange = %v, want line 10", got)
	}

	// Endpoints.
	if len(s.Endpoints) != 3 {
		t.Fatalf("got %d endpoints, want 3", len(s.Endpoints))
	}
	absCA, err := filepath.Abs(filepath.Join("testdata", "valid", "lab-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	sub := *s.Endpoints[0]
	sub.DeclRange = hcl.Range{}
	// The certificates of ca_file are kept as read at load time.
	if len(sub.CACertificates) != 1 || sub.CACertificates[0].Subject.CommonName == "" {
		t.Errorf("endpoint submission: CACertificates = %v, want the one certificate of lab-ca.pem", sub.CACertificates)
	} else if pemCA, err := os.ReadFile(absCA); err != nil {
		t.Fatal(err)
	} else if block, _ := pem.Decode(pemCA); block == nil || !bytes.Equal(block.Bytes, sub.CACertificates[0].Raw) {
		t.Errorf("endpoint submission: CACertificates[0] is not the certificate in %s", absCA)
	}
	sub.CACertificates = nil
	wantSub := Endpoint{
		Name: "submission", Host: "smtp.office365.com", Port: 587, TLS: TLSStartTLS,
		Helo: "scanner01.contoso.com", Timeout: 45 * time.Second,
		TLSMinVersion: tls.VersionTLS12, TLSMaxVersion: tls.VersionTLS13,
		ServerName: "outlook.office365.com", VerifyCertificate: true, CAFile: absCA,
		SourceAddress: "192.0.2.10", IPVersion: 4,
	}
	if !reflect.DeepEqual(sub, wantSub) {
		t.Errorf("endpoint submission =\n%+v\nwant\n%+v", sub, wantSub)
	}
	smtps := *s.Endpoints[1]
	smtps.DeclRange = hcl.Range{}
	wantSMTPS := Endpoint{Name: "smtps", Host: "127.0.0.1", Port: 465, TLS: TLSImplicit, Timeout: 30 * time.Second,
		ServerName: "127.0.0.1", VerifyCertificate: true}
	if !reflect.DeepEqual(smtps, wantSMTPS) {
		t.Errorf("endpoint smtps =\n%+v\nwant\n%+v", smtps, wantSMTPS)
	}
	plain := *s.Endpoints[2]
	plain.DeclRange = hcl.Range{}
	wantPlain := Endpoint{Name: "plain", Host: "mail.contoso.com", Port: 25, TLS: TLSNone, Timeout: 30 * time.Second,
		ServerName: "mail.contoso.com", VerifyCertificate: false}
	if !reflect.DeepEqual(plain, wantPlain) {
		t.Errorf("endpoint plain =\n%+v\nwant\n%+v", plain, wantPlain)
	}

	// Checks.
	if len(s.Checks) != 3 {
		t.Fatalf("got %d checks, want 3", len(s.Checks))
	}
	c := s.Checks[0]
	if c.Label != "device can submit" || c.Endpoint != s.Endpoints[0] {
		t.Errorf("check 0: label %q endpoint %p, want submission %p", c.Label, c.Endpoint, s.Endpoints[0])
	}
	if !reflect.DeepEqual(c.Auth, &Auth{Username: "scanner@contoso.com", Password: "correct horse", Mechanism: "LOGIN"}) {
		t.Errorf("auth = %+v", c.Auth)
	}
	if c.MailFrom == nil || *c.MailFrom != "scanner@contoso.com" {
		t.Errorf("mail_from = %v", c.MailFrom)
	}
	if want := []string{"helpdesk@contoso.com", "scans@contoso.com"}; !reflect.DeepEqual(c.RcptTo, want) {
		t.Errorf("rcpt_to = %q, want %q", c.RcptTo, want)
	}
	wantMsg := &Message{
		From: "Scanner@contoso.com", To: []string{"helpdesk@contoso.com"},
		Subject: "SCAN FROM SCAN-TO-EMAIL", Body: "Scanned document attached.\n",
		Headers: map[string]string{"X-Smtpdiag-Run": "acceptance", "Importance": "low"},
	}
	if !reflect.DeepEqual(c.Message, wantMsg) {
		t.Errorf("message =\n%+v\nwant\n%+v", c.Message, wantMsg)
	}
	if c.Retry != (Retry{Attempts: 3, Delay: 20 * time.Second}) {
		t.Errorf("retry = %+v", c.Retry)
	}
	wantExpect := &assertions.Expect{
		Connect:             ptr(true),
		Banner:              ptr(pattern(t, "220")),
		EHLO:                ptr(code(t, 250)),
		Auth:                ptr(code(t, 235)),
		Mail:                ptr(pattern(t, "250 2.1.0")),
		Rcpt:                []assertions.Pattern{pattern(t, "250"), pattern(t, "2xx")},
		Data:                ptr(pattern(t, "250 2.6.0 queued")),
		StartTLS:            ptr(true),
		TLSVersion:          ptr(comparison(t, ">= 1.2")),
		CertificateValid:    ptr(true),
		CertificateDaysLeft: ptr(comparison(t, "14")),
		Advertises:          []string{"PIPELINING", "AUTH LOGIN"},
		NotAdvertises:       []string{"AUTH PLAIN"},
		AuthBeforeTLS:       ptr(false),
		No:                  []assertions.Pattern{pattern(t, "550 5.7.606-649"), pattern(t, "5.7.139")},
		ClientIP:            ptr("203.0.113.5"),
		MaxDuration:         ptr(10 * time.Second),
		BannerWithin:        ptr(5 * time.Second),
	}
	if !reflect.DeepEqual(c.Expect, wantExpect) {
		t.Errorf("expect =\n%+v\nwant\n%+v", c.Expect, wantExpect)
	}
	if len(c.Assertions) != 2 {
		t.Fatalf("got %d assertions, want 2", len(c.Assertions))
	}
	if a := c.Assertions[0]; a.Condition == nil || a.ErrorMessage != "TLS below 1.2 for scan-to-email" ||
		a.ErrorMessageExpr != nil || a.DeclRange.Start.Line == 0 {
		t.Errorf("assertion 0 = %+v", a)
	}
	if a := c.Assertions[1]; a.Condition == nil || a.ErrorMessage != "" || a.ErrorMessageExpr == nil {
		t.Errorf("assertion 1 = %+v; an error_message referring to result must be kept as an expression", a)
	}
	if got := len(c.Assertions[0].Condition.Variables()); got != 1 {
		t.Errorf("assertion 0 condition refers to %d things, want result.tls.version", got)
	}

	tok := s.Checks[1]
	if tok.Endpoint != s.Endpoints[1] ||
		!reflect.DeepEqual(tok.Auth, &Auth{Username: "app@contoso.com", Token: "eyJ0eXAi.token", Mechanism: "XOAUTH2"}) ||
		tok.MailFrom == nil || *tok.MailFrom != "" || !reflect.DeepEqual(tok.RcptTo, []string{"postmaster"}) ||
		tok.Message != nil || tok.Retry != (Retry{Attempts: 2, Delay: DefaultRetryDelay}) {
		t.Errorf("check 1 = %+v (auth %+v)", tok, tok.Auth)
	}
	if !reflect.DeepEqual(tok.Expect, &assertions.Expect{Rcpt: []assertions.Pattern{pattern(t, "550")}, No: []assertions.Pattern{pattern(t, "421")}}) {
		t.Errorf("check 1 expect = %+v", tok.Expect)
	}

	blocked := s.Checks[2]
	if blocked.Endpoint != s.Endpoints[2] || blocked.Auth != nil || blocked.MailFrom != nil || blocked.RcptTo != nil ||
		blocked.Retry != (Retry{Attempts: 1}) || !reflect.DeepEqual(blocked.Expect, &assertions.Expect{Connect: ptr(false)}) {
		t.Errorf("check 2 = %+v", blocked)
	}

	if want := []string{"correct horse", "eyJ0eXAi.token"}; !reflect.DeepEqual(s.Sensitive, want) {
		t.Errorf("Sensitive = %q, want %q", s.Sensitive, want)
	}
}

func TestDefaults(t *testing.T) {
	s := load(t, Options{}, filepath.Join("some", "dir", "lab.hcl"), `
endpoint "e" {
  host = "mail.example.com"
}
smtp "banner only" {
  endpoint = endpoint.e
}
smtp "with message" {
  endpoint  = endpoint.e
  mail_from = "a@example.com"
  rcpt_to   = ["b@example.com", "c@example.com"]
  message {}
}
`)
	if s.Name != "lab" || s.Parallel != 0 || s.Description != "" || len(s.Variables) != 0 || s.Sensitive != nil {
		t.Errorf("suite = %+v", s)
	}
	ep := *s.Endpoints[0]
	ep.DeclRange = hcl.Range{}
	want := Endpoint{Name: "e", Host: "mail.example.com", Port: 25, TLS: TLSStartTLS, Timeout: 30 * time.Second,
		ServerName: "mail.example.com", VerifyCertificate: true}
	if !reflect.DeepEqual(ep, want) {
		t.Errorf("endpoint = %+v, want %+v", ep, want)
	}
	c := s.Checks[0]
	if c.Expect != nil || c.Auth != nil || c.MailFrom != nil || c.Message != nil || c.Retry != (Retry{Attempts: 1}) {
		t.Errorf("check = %+v", c)
	}
	m := s.Checks[1].Message
	wantMsg := &Message{
		From: "a@example.com", To: []string{"b@example.com", "c@example.com"},
		Subject: "smtpdiag: with message",
		Body:    "This message was sent by smtpdiag to test mail flow (suite \"lab\", check \"with message\").\n",
	}
	if !reflect.DeepEqual(m, wantMsg) {
		t.Errorf("message = %+v, want %+v", m, wantMsg)
	}
}

const precedenceSuite = `
variable "domain" {
  default = "default.example"
}
endpoint "e" {
  host = "mx.${var.domain}"
}
`

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	varFile := filepath.Join(dir, "a.vars")
	if err := os.WriteFile(varFile, []byte(`domain = "file.example"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	laterFile := filepath.Join(dir, "b.vars")
	if err := os.WriteFile(laterFile, []byte(`domain = "later-file.example"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"SMTPDIAG_VAR_domain=env.example"}
	tests := []struct {
		name       string
		opts       Options
		wantHost   string
		wantSource ValueSource
	}{
		{"default", Options{}, "mx.default.example", SourceDefault},
		{"env over default", Options{Environ: env}, "mx.env.example", SourceEnv},
		{"var-file over env", Options{Environ: env, VarFiles: []string{varFile}}, "mx.file.example", SourceVarFile},
		{"later var-file wins", Options{VarFiles: []string{varFile, laterFile}}, "mx.later-file.example", SourceVarFile},
		{"-var over var-file", Options{Environ: env, VarFiles: []string{varFile}, Vars: []string{"domain=cli.example"}}, "mx.cli.example", SourceVar},
		{"later -var wins", Options{Vars: []string{"domain=first.example", "domain=second.example"}}, "mx.second.example", SourceVar},
		{"-var value may hold =", Options{Vars: []string{"domain=a=b"}}, "", ""},
		{"other env vars are ignored", Options{Environ: []string{"SMTPDIAG_VAR_DOMAIN=upper.example", "domain=x"}}, "mx.default.example", SourceDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantHost == "" {
				out := loadDiags(t, tt.opts, precedenceSuite)
				if !strings.Contains(out, `The host "mx.a=b" contains '='`) {
					t.Errorf("want the value after the first = to be the value, got:\n%s", out)
				}
				return
			}
			s := load(t, tt.opts, "p.hcl", precedenceSuite)
			if got := s.Endpoints[0].Host; got != tt.wantHost {
				t.Errorf("host = %q, want %q", got, tt.wantHost)
			}
			if got := s.Variables[0].Source; got != tt.wantSource {
				t.Errorf("source = %q, want %q", got, tt.wantSource)
			}
		})
	}
}

func TestVariableTypesFromText(t *testing.T) {
	src := `
variable "rcpts" {
  type = list(string)
}
variable "port" {
  type = number
}
variable "strict" {
  type = bool
}
endpoint "e" {
  host               = "127.0.0.1"
  port               = var.port
  verify_certificate = var.strict
}
smtp "c" {
  endpoint  = endpoint.e
  mail_from = ""
  rcpt_to   = var.rcpts
}
`
	for _, opts := range []Options{
		{Vars: []string{`rcpts=["a@example.com", "b@example.com"]`, "port=2525", "strict=false"}},
		{Environ: []string{`SMTPDIAG_VAR_rcpts=["a@example.com","b@example.com"]`, "SMTPDIAG_VAR_port=2525", "SMTPDIAG_VAR_strict=false"}},
	} {
		s := load(t, opts, "types.hcl", src)
		if got := s.Checks[0].RcptTo; !reflect.DeepEqual(got, []string{"a@example.com", "b@example.com"}) {
			t.Errorf("%v: rcpt_to = %q", opts, got)
		}
		if ep := s.Endpoints[0]; ep.Port != 2525 || ep.VerifyCertificate {
			t.Errorf("%v: port %d verify %v", opts, ep.Port, ep.VerifyCertificate)
		}
	}

	out := loadDiags(t, Options{Vars: []string{`rcpts=a@example.com`, "port=2525", "strict=false"}}, src)
	if !strings.Contains(out, "Invalid value for variable") || !strings.Contains(out, `["a@contoso.com", "b@contoso.com"]`) {
		t.Errorf("a bare string for list(string) must be rejected with an example, got:\n%s", out)
	}
	out = loadDiags(t, Options{Vars: []string{`rcpts=["a"]`, "port=2525", "strict=yes"}}, src)
	if !strings.Contains(out, `-var "strict=yes" is not valid for variable "strict" (type bool)`) {
		t.Errorf("want a bool conversion error, got:\n%s", out)
	}
}

func TestSensitive(t *testing.T) {
	s := load(t, Options{Vars: []string{`keys=["key-one","key-two"]`, "pin=123456"}}, "s.hcl", `
variable "keys" {
  type      = list(string)
  sensitive = true
}
variable "pin" {
  type      = number
  sensitive = true
}
variable "flag" {
  type      = bool
  sensitive = true
  default   = true
}
variable "user" {
  default = "scanner@example.com"
}
endpoint "e" {
  host = "127.0.0.1"
}
smtp "a" {
  endpoint = endpoint.e
  auth {
    username = var.user
    password = "literal-password"
  }
}
smtp "b" {
  endpoint = endpoint.e
  auth {
    username = var.user
    token    = element(var.keys, 1)
  }
}
smtp "c" {
  endpoint = endpoint.e
  auth {
    username = var.user
    password = "literal-password"
  }
}
`)
	want := []string{"key-one", "key-two", "123456", "literal-password"}
	if !reflect.DeepEqual(s.Sensitive, want) {
		t.Errorf("Sensitive = %q, want %q (no bools, no user names, no duplicates)", s.Sensitive, want)
	}
}

func TestSensitiveValuesStayOutOfDiagnostics(t *testing.T) {
	out := loadDiags(t, Options{Vars: []string{"secret=hunter2 x"}}, `
variable "secret" {
  sensitive = true
}
variable "plain" {
  default = "visible-value"
}
endpoint "e" {
  host = var.secret
  port = tonumber(var.secret)
  helo = tonumber(var.plain)
}
smtp "a" {
  endpoint  = endpoint.e
  mail_from = var.secret
}
`)
	if !strings.Contains(out, `var.plain as "visible-value"`) {
		t.Errorf("want HCL's note on the value of a plain variable (the leak check depends on it), got:\n%s", out)
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("a sensitive value appears in diagnostics:\n%s", out)
	}
	// A quoted sensitive value is replaced by its length, or masked.
	if !strings.Contains(out, "(sensitive value, 9 bytes)") && !strings.Contains(out, redact.Mask) {
		t.Errorf("want the errors to mention a sensitive value, got:\n%s", out)
	}
}

func TestFileFunctionIsRelativeToTheSuite(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "suites", "bodies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "suites", "bodies", "scan.txt"), []byte("from the file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	suitePath := filepath.Join(dir, "suites", "s.hcl")
	if err := os.WriteFile(suitePath, []byte(`
variable "body" {
  default = file("bodies/scan.txt")
}
endpoint "e" {
  host = "127.0.0.1"
}
smtp "m" {
  endpoint  = endpoint.e
  mail_from = "a@example.com"
  rcpt_to   = ["b@example.com"]
  message {
    subject = trimspace(file("bodies/scan.txt"))
    body    = var.body
  }
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLoader(Options{Environ: []string{}})
	s, diags := l.LoadFile(suitePath)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if m := s.Checks[0].Message; m.Subject != "from the file" || m.Body != "from the file\n" {
		t.Errorf("message = %+v", m)
	}

	out := loadDiags(t, Options{}, `
variable "body" {
  default = file("does-not-exist.txt")
}
`)
	if !strings.Contains(out, "does-not-exist.txt: no such file or directory") {
		t.Errorf("want a missing-file error, got:\n%s", out)
	}
}

func TestEnvOnlyInDefaults(t *testing.T) {
	s := load(t, Options{Environ: []string{"SCANNER_HOST=10.0.0.5"}}, "e.hcl", `
variable "host" {
  default = env("SCANNER_HOST")
}
variable "unset" {
  default = env("NOT_SET_ANYWHERE")
}
endpoint "e" {
  host = var.host
  helo = "x${var.unset}"
}
`)
	if got := s.Endpoints[0].Host; got != "10.0.0.5" {
		t.Errorf("host = %q, want the value of SCANNER_HOST", got)
	}
	if got := s.Endpoints[0].Helo; got != "x" {
		t.Errorf("helo = %q, want env() of an unset variable to be empty", got)
	}
}

func TestLoadPathsDirectory(t *testing.T) {
	dir := filepath.Join("testdata", "dir")
	l := NewLoader(Options{Environ: []string{}, Vars: []string{"domain=example.org"},
		VarFiles: []string{filepath.Join(dir, "shared.vars.hcl")}})
	suites, diags := l.LoadPaths([]string{dir})
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 0)
		t.Fatalf("unexpected diagnostics:\n%s", b.String())
	}
	var names []string
	for _, s := range suites {
		names = append(names, s.Name)
	}
	// Sorted by file name; the var file and the subdirectory are skipped;
	// -var domain is declared by one suite only, which is fine.
	if want := []string{"alpha", "beta"}; !reflect.DeepEqual(names, want) {
		t.Errorf("suites = %q, want %q", names, want)
	}
	if got := suites[0].Endpoints[0].Host; got != "mx.example.org" {
		t.Errorf("alpha host = %q", got)
	}
	if got := suites[1].Endpoints[0].Host; got != "relay.lab.example" {
		t.Errorf("beta host = %q (from the var file)", got)
	}
	// shared.vars.hcl sets "unused", which no suite declares: a warning.
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || !strings.Contains(diags[0].Detail, `"unused"`) {
		t.Errorf("diags = %v, want one warning about unused", diags)
	}
}

func TestLoadPathsErrors(t *testing.T) {
	l := NewLoader(Options{Environ: []string{}})
	suites, diags := l.LoadPaths([]string{filepath.Join("testdata", "nope"), filepath.Join("testdata", "dir", "sub")})
	if len(suites) != 0 || len(diags) != 2 ||
		diags[0].Summary != "Cannot read suite path" || diags[1].Summary != "No suite files" {
		t.Errorf("suites %v diags %v", suites, diags)
	}
}

func TestLoadPathsDefaultsToCurrentDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "here.hcl"), []byte(`endpoint "e" { host = "127.0.0.1" }`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	suites, diags := NewLoader(Options{Environ: []string{}}).LoadPaths(nil)
	if diags.HasErrors() || len(suites) != 1 || suites[0].Name != "here" || suites[0].Path != "here.hcl" {
		t.Errorf("suites %v diags %v", suites, diags)
	}
}

func TestUndeclaredVarAcrossSuites(t *testing.T) {
	dir := filepath.Join("testdata", "dir")
	l := NewLoader(Options{Environ: []string{}, Vars: []string{"domian=example.org"}})
	_, diags := l.LoadPaths([]string{dir})
	var b bytes.Buffer
	_ = l.WriteDiagnostics(&b, diags, false, 0)
	if !strings.Contains(b.String(), `-var "domian=..."`) || !strings.Contains(b.String(), `Did you mean "domain"?`) {
		t.Errorf("want an undeclared-variable error with a suggestion, got:\n%s", b.String())
	}
}

func TestDiagnosticsAreSortedAndPositioned(t *testing.T) {
	out := loadDiags(t, Options{}, `
endpoint "e" {
  hots = "a"
  prot = 25
  tls  = "sometimes"
}
`)
	// Unsupported arguments come from a map in HCL; sorting makes them
	// appear in source order.
	i, j, k := strings.Index(out, "test.hcl:3:3"), strings.Index(out, "test.hcl:4:3"), strings.Index(out, "test.hcl:5:10")
	if i < 0 || j < 0 || k < 0 || !(i < j && j < k) {
		t.Errorf("want three positioned errors in source order, got:\n%s", out)
	}
}

func TestErrorMessages(t *testing.T) {
	dir := t.TempDir()
	refFile := filepath.Join(dir, "ref.vars")
	if err := os.WriteFile(refFile, []byte("domain = var.other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const endpoint = `endpoint "e" { host = "127.0.0.1" }` + "\n"
	tests := []struct {
		name string
		opts Options
		src  string
		want []string
	}{
		{
			name: "endpoint reference outside smtp.endpoint",
			src:  endpoint + `endpoint "f" { host = endpoint.e }`,
			want: []string{"test.hcl:2:23: Error: Endpoint reference not allowed here"},
		},
		{
			name: "result outside assert",
			src:  endpoint + "smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = result.x\n}",
			want: []string{"test.hcl:4:15: Error: Result reference not allowed here"},
		},
		{
			name: "env in an assert",
			src: endpoint + `smtp "c" {
  endpoint = endpoint.e
  assert {
    condition     = env("X") == ""
    error_message = "x"
  }
}`,
			want: []string{"test.hcl:5:21: Error: env() is only allowed in variable defaults"},
		},
		{
			name: "env in a validation condition",
			src: `variable "v" {
  default = "x"
  validation {
    condition     = var.v != env("X")
    error_message = "x"
  }
}`,
			want: []string{"test.hcl:4:30: Error: env() is only allowed in variable defaults"},
		},
		{
			name: "unknown reference with suggestion",
			src:  `variable "v" { default = "x" }` + "\n" + endpoint + `endpoint "f" { host = vars.v }`,
			want: []string{"Unknown reference", `Did you mean "var"?`},
		},
		{
			name: "references in a variables file",
			opts: Options{VarFiles: []string{refFile}},
			src:  `variable "domain" { default = "x" }`,
			want: []string{"ref.vars:1:10: Error: References not allowed in a variables file"},
		},
		{
			name: "missing variables file",
			opts: Options{VarFiles: []string{filepath.Join(dir, "none.vars")}},
			src:  endpoint,
			want: []string{"Cannot read variables file", "none.vars: no such file or directory"},
		},
		{
			name: "-var without =",
			opts: Options{Vars: []string{"domain"}},
			src:  `variable "domain" { default = "x" }`,
			want: []string{"Invalid -var option", `-var "domain" is not of the form name=value`},
		},
		{
			name: "syntax error in a list given with -var",
			opts: Options{Vars: []string{`rcpts=["a",`}},
			src:  `variable "rcpts" { type = list(string) }`,
			want: []string{"test.hcl:1:27: Error: Invalid value for variable", `write the list in HCL syntax`},
		},
		{
			name: "empty rcpt_to list",
			src:  endpoint + "smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"\"\n  rcpt_to   = []\n}",
			want: []string{"test.hcl:5:15: Error: Invalid address", "rcpt_to is an empty list"},
		},
		{
			name: "more rcpt patterns than recipients",
			src: endpoint + `smtp "c" {
  endpoint  = endpoint.e
  mail_from = ""
  rcpt_to   = ["a@example.com"]
  expect { rcpt = ["250", "550"] }
}`,
			want: []string{"expect.rcpt can never hold: it lists 2 patterns for 1 recipients"},
		},
		{
			name: "starttls expectation with implicit TLS",
			src: `endpoint "e" {
  host = "127.0.0.1"
  tls  = "implicit"
}
smtp "c" {
  endpoint = endpoint.e
  expect {
    starttls        = true
    auth_before_tls = false
  }
}`,
			want: []string{"test.hcl:8:5: Error: Expectation on a step that never runs", "implicit TLS, which has no STARTTLS",
				"test.hcl:9:5: Error: Expectation on a step that never runs", "no EHLO before TLS"},
		},
		{
			name: "duplicate auth block",
			src: endpoint + `smtp "c" {
  endpoint = endpoint.e
  auth {
    username = "u"
    password = "p"
  }
  auth {
    username = "u"
    password = "p"
  }
}`,
			want: []string{"test.hcl:8:3: Error: Duplicate auth block", "the first one is at test.hcl:4:3"},
		},
		{
			name: "token with another mechanism",
			src: endpoint + `smtp "c" {
  endpoint = endpoint.e
  auth {
    username  = "u"
    token     = "t"
    mechanism = "plain"
  }
}`,
			want: []string{"A token needs XOAUTH2", "PLAIN authenticates with a password"},
		},
		{
			name: "client_ip must be an IP",
			src:  endpoint + "smtp \"c\" {\n  endpoint = endpoint.e\n  expect {\n    client_ip = \"my-scanner\"\n  }\n}",
			want: []string{"client_ip must be an IP address"},
		},
		{
			name: "a comparison of the wrong type",
			src:  endpoint + "smtp \"c\" {\n  endpoint = endpoint.e\n  expect {\n    tls_version = true\n  }\n}",
			want: []string{"expect.tls_version is a comparison string or a number, not bool"},
		},
		{
			name: "endpoint attribute of the wrong kind",
			src:  endpoint + `smtp "c" { endpoint = var.e }`,
			want: []string{"Invalid endpoint reference"},
		},
		{
			name: "ip_version conflicting with source_address",
			src:  "endpoint \"e\" {\n  host           = \"mail.example.com\"\n  source_address = \"::1\"\n  ip_version     = 4\n}",
			want: []string{"ip_version is 4, but source_address ::1 is an IPv6 address"},
		},
		{
			name: "two suite blocks",
			src:  "suite {}\nsuite {}",
			want: []string{"test.hcl:2:1: Error: Duplicate suite block"},
		},
		{
			name: "empty password from a variable",
			src: `variable "pw" { default = "" }
` + endpoint + `smtp "c" {
  endpoint = endpoint.e
  auth {
    username = "u"
    password = var.pw
  }
}`,
			want: []string{"Empty password", "give the variable a value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := loadDiags(t, tt.opts, tt.src)
			if !strings.Contains(out, "Error") {
				t.Fatalf("no error; output:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("want %q in:\n%s", w, out)
				}
			}
		})
	}
}

func TestLoadSources(t *testing.T) {
	l := NewLoader(Options{Environ: []string{}, Vars: []string{"a=1", "b=2"}})
	suites, diags := l.LoadSources([]Source{
		{Filename: "a.hcl", Src: []byte("variable \"a\" {}\n")},
		{Filename: "b.hcl", Src: []byte("variable \"b\" {}\n")},
	})
	if diags.HasErrors() || len(suites) != 2 || suites[0].Variables[0].Value.AsString() != "1" ||
		suites[1].Variables[0].Value.AsString() != "2" {
		t.Errorf("each -var is declared by one of the suites: suites %v diags %v", suites, diags)
	}

	// The same options with one suite at a time: the other's -var is an error.
	_, diags = NewLoader(Options{Environ: []string{}, Vars: []string{"a=1", "b=2"}}).
		LoadSource("a.hcl", []byte("variable \"a\" {}\n"))
	if len(diags) != 1 || diags[0].Summary != "Value for undeclared variable" || !strings.Contains(diags[0].Detail, `"b=..."`) {
		t.Errorf("diags = %v, want one error about b", diags)
	}
}

func TestWriteDiagnosticsColor(t *testing.T) {
	l := NewLoader(Options{Environ: []string{}})
	_, diags := l.LoadSource("c.hcl", []byte("endpoint \"e\" {\n  hots = \"x\"\n}\n"))
	var b bytes.Buffer
	if err := l.WriteDiagnostics(&b, diags, true, 0); err != nil {
		t.Fatal(err)
	}
	// The suggestion for the misspelt "hots" comes first (it used to
	// come after "Missing required argument" at the block's brace).
	if !strings.HasPrefix(b.String(), "c.hcl:2:3: \x1b[31mError\x1b[0m: Unsupported argument") {
		t.Errorf("got %q", b.String())
	}
}

package suite

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCheckTimeoutAndForceMechanism: check_timeout on an endpoint and on
// an smtp check, and force_mechanism in an auth block, are decoded into
// the typed structs; force_mechanism needs a mechanism.
func TestCheckTimeoutAndForceMechanism(t *testing.T) {
	s := load(t, Options{}, "t.hcl", `
endpoint "e" {
  host          = "127.0.0.1"
  check_timeout = "90s"
}
smtp "own" {
  endpoint      = endpoint.e
  check_timeout = "45s"
  auth {
    username        = "scanner@contoso.com"
    password        = "Some-Password"
    mechanism       = "PLAIN"
    force_mechanism = true
  }
}
smtp "inherits" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    token    = "Some-Token-Value"
    force_mechanism = true
  }
}
`)
	if got := s.Endpoints[0].CheckTimeout; got != 90*time.Second {
		t.Errorf("endpoint check_timeout %v", got)
	}
	own, inherits := s.Checks[0], s.Checks[1]
	if own.CheckTimeout != 45*time.Second || inherits.CheckTimeout != 0 {
		t.Errorf("check_timeout %v and %v", own.CheckTimeout, inherits.CheckTimeout)
	}
	if !own.Auth.ForceMechanism || !inherits.Auth.ForceMechanism || inherits.Auth.Mechanism != "XOAUTH2" {
		t.Errorf("auth %+v and %+v", own.Auth, inherits.Auth)
	}

	out := loadDiags(t, Options{}, `
endpoint "e" {
  host          = "127.0.0.1"
  check_timeout = "soon"
}
smtp "c" {
  endpoint      = endpoint.e
  check_timeout = "0s"
  auth {
    username        = "scanner@contoso.com"
    password        = "Some-Password"
    force_mechanism = true
  }
}
`)
	for _, want := range []string{
		"test.hcl:4:19: Error: Invalid duration",
		"test.hcl:8:19: Error: Invalid duration",
		"test.hcl:12:5: Error: force_mechanism without mechanism",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q, got:\n%s", want, out)
		}
	}
}

// TestValidateNeedsNoValues: loading for validate checks syntax, types
// and references without values: a required variable without one, and a
// default whose environment variable is not set, are no errors, while
// run (the default) still needs them. Given values are still checked.
func TestValidateNeedsNoValues(t *testing.T) {
	src := `
variable "domain" {}
variable "password" {
  sensitive = true
  default   = env("SMTP_PASSWORD")
  validation {
    condition     = length(var.password) > 0
    error_message = "Set SMTP_PASSWORD."
  }
}
variable "port" {
  type = number
}
endpoint "mx" {
  mx   = var.domain
  port = var.port
}
smtp "c" {
  endpoint  = endpoint.mx
  mail_from = "scanner@${var.domain}"
  rcpt_to   = ["helpdesk@${var.domain}"]
  auth {
    username = "scanner@${var.domain}"
    password = var.password
  }
}
`
	l := NewLoader(Options{Environ: []string{}, Validate: true})
	s, diags := l.LoadSource("v.hcl", []byte(src))
	if len(diags) != 0 {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 0)
		t.Fatalf("validate reports:\n%s", b.String())
	}
	if len(s.Checks) != 1 {
		t.Fatalf("checks %v", s.Checks)
	}
	// run needs the values, and says where each comes from.
	out := loadDiags(t, Options{}, src)
	for _, want := range []string{
		`No value for required variable`,
		`The value of var.password came from its default, env("SMTP_PASSWORD"), and SMTP_PASSWORD is not set: set SMTP_PASSWORD or -var password=...`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("run: want %q, got:\n%s", want, out)
		}
	}
	// Values given to validate are checked.
	out = loadDiags(t, Options{Validate: true, Vars: []string{"port=many", "domain=a b"}}, src)
	for _, want := range []string{`-var "port=many" is not valid for variable "port"`, "Invalid mx"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate with values: want %q, got:\n%s", want, out)
		}
	}
}

// TestEmptyPasswordNamesTheEnvironmentVariable: run with an env()
// default whose variable is not set says what to set.
func TestEmptyPasswordNamesTheEnvironmentVariable(t *testing.T) {
	out := loadDiags(t, Options{}, `
variable "password" {
  sensitive = true
  default   = env("SMTP_PASSWORD")
}
endpoint "e" {
  host = "smtp.office365.com"
}
smtp "c" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    password = var.password
  }
}
`)
	if !strings.Contains(out, "Empty password") || !strings.Contains(out, "set SMTP_PASSWORD or -var password=...") {
		t.Errorf("got:\n%s", out)
	}
}

// TestReadmeFirstSuiteValidatesWithoutEnvironment: the suite of the
// README's "A first suite" section validates with no environment at all.
func TestReadmeFirstSuiteValidatesWithoutEnvironment(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(b)
	i := strings.Index(section, "## A first suite")
	if i < 0 {
		t.Fatal("README.md has no section \"A first suite\"")
	}
	section = section[i:]
	m := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("no HCL block in the README's first-suite section")
	}
	l := NewLoader(Options{Environ: []string{}, Validate: true})
	s, diags := l.LoadSource("scanner.hcl", []byte(m[1]))
	if diags.HasErrors() {
		var out bytes.Buffer
		_ = l.WriteDiagnostics(&out, diags, false, 0)
		t.Fatalf("the README's first suite does not validate:\n%s", out.String())
	}
	if len(s.Checks) == 0 {
		t.Error("the README's first suite has no check")
	}
}

// TestClientRepoValidatesWithoutPassword: the example client repo's
// suites validate with its variables file and no SMTP_PASSWORD, as its
// CI's validate job (on GitHub-hosted runners, without secrets) does.
func TestClientRepoValidatesWithoutPassword(t *testing.T) {
	l := NewLoader(Options{Environ: []string{}, Validate: true, VarFiles: []string{filepath.Join(clientRepo, "smtpdiag.vars.hcl")}})
	suites, diags := l.LoadPaths([]string{filepath.Join(clientRepo, "suites")})
	if diags.HasErrors() || len(suites) != 2 {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 0)
		t.Fatalf("%d suites; problems:\n%s", len(suites), b.String())
	}
}

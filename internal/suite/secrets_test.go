package suite

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/redact"
)

// TestAuthValueNotQuotedByRenderer: a variable that is not declared
// sensitive but goes into an auth block's password is a secret all the
// same. HCL's note on the values of an expression that failed ("with
// var.pw as ...") must give its length, not the value.
func TestAuthValueNotQuotedByRenderer(t *testing.T) {
	out := loadDiags(t, Options{Environ: []string{"CI_SECRET=Ci-Secret-From-Env"}}, `
variable "pw" {
  default = env("CI_SECRET")
}
endpoint "e" {
  host = "127.0.0.1"
  port = tonumber(var.pw)
}
smtp "a" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    password = var.pw
  }
}
`)
	if strings.Contains(out, "Ci-Secret-From-Env") {
		t.Errorf("the password appears in the diagnostics:\n%s", out)
	}
	if !strings.Contains(out, "var.pw as (sensitive value, 18 bytes)") {
		t.Errorf("want the note to give the value's length, got:\n%s", out)
	}
}

// TestEnvAndFileValuesNotQuoted: what env() and file() read is never
// quoted in a diagnostic, in the decoder's own messages nor in HCL's
// notes, even for a variable that is not sensitive.
func TestEnvAndFileValuesNotQuoted(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "helo.txt"), []byte("file helo with spaces"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `
variable "host" {
  default = env("SCANNER_HOST")
}
variable "helo" {
  default = file("helo.txt")
}
endpoint "e" {
  host = var.host
  helo = var.helo
  port = tonumber(var.host)
}
endpoint "f" {
  host = "127.0.0.1"
  helo = file("helo.txt")
}
`
	path := filepath.Join(dir, "s.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLoader(Options{Environ: []string{"SCANNER_HOST=env host name"}})
	_, diags := l.LoadFile(path)
	var b bytes.Buffer
	if err := l.WriteDiagnostics(&b, diags, false, 0); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, secret := range []string{"env host name", "file helo with spaces"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q appears in the diagnostics:\n%s", secret, out)
		}
	}
	for _, want := range []string{"Invalid host", "Invalid helo", "13 bytes", "21 bytes"} {
		if !strings.Contains(out, want) {
			t.Errorf("the diagnostics lack %q:\n%s", want, out)
		}
	}
}

// TestVarFileSnippetHidesSecrets: the source snippet of a -var-file shows
// neither the value of a sensitive variable nor one that goes into an auth
// block, on a type error or on a syntax error.
func TestVarFileSnippetHidesSecrets(t *testing.T) {
	const suiteSrc = `
variable "pin" {
  type      = number
  sensitive = true
}
variable "pw" {}
variable "domain" {}
endpoint "e" {
  host = "127.0.0.1"
}
smtp "a" {
  endpoint = endpoint.e
  auth {
    username = "scanner@${var.domain}"
    password = var.pw
  }
}
`
	dir := t.TempDir()
	typeErr := filepath.Join(dir, "type.vars")
	if err := os.WriteFile(typeErr, []byte("domain = \"contoso.com\"\npin = \"Pin-Not-A-Number\"\npw = \"Pw-From-File\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	syntaxErr := filepath.Join(dir, "syntax.vars")
	if err := os.WriteFile(syntaxErr, []byte("domain = \"contoso.com\"\npw = \"Unterminated-Secret\npin = 1234\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file    string
		secrets []string
	}{
		{typeErr, []string{"Pin-Not-A-Number", "Pw-From-File"}},
		{syntaxErr, []string{"Unterminated-Secret"}},
	} {
		l := NewLoader(Options{Environ: []string{}, VarFiles: []string{tc.file}})
		_, diags := l.LoadSource(filepath.Join(dir, "s.hcl"), []byte(suiteSrc))
		if !diags.HasErrors() {
			t.Fatalf("%s: no error", tc.file)
		}
		var b bytes.Buffer
		if err := l.WriteDiagnostics(&b, diags, false, 0); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, s := range tc.secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: %q appears in the diagnostics:\n%s", filepath.Base(tc.file), s, out)
			}
		}
		if !strings.Contains(out, filepath.Base(tc.file)+":") {
			t.Errorf("%s: no positioned diagnostic:\n%s", filepath.Base(tc.file), out)
		}
	}
}

// TestSensitiveNumberMaskedAsWritten: a sensitive number is masked in the
// form it was written in, not only in cty's canonical form (0123 is the
// number 123; 1.50 is 1.5).
func TestSensitiveNumberMaskedAsWritten(t *testing.T) {
	dir := t.TempDir()
	varFile := filepath.Join(dir, "n.vars")
	if err := os.WriteFile(varFile, []byte("code = 1.50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := load(t, Options{Vars: []string{"pin=0123"}, VarFiles: []string{varFile}}, "n.hcl", `
variable "pin" {
  type      = number
  sensitive = true
}
variable "code" {
  type      = number
  sensitive = true
}
variable "other" {
  type      = number
  sensitive = true
  default   = 00421
}
`)
	for _, written := range []string{"0123", "1.50", "00421"} {
		if got := s.Redactor.String("value " + written + "."); got != "value "+redact.Mask+"." {
			t.Errorf("%s is masked as %q", written, got)
		}
		if !slices.Contains(s.Sensitive, written) {
			t.Errorf("Sensitive = %q lacks %q", s.Sensitive, written)
		}
	}
}

// TestShortSensitiveValueRefused: a sensitive value of one or two bytes
// cannot be masked without mangling ordinary text (package redact skips
// it), so it is refused with a positioned error instead of silently left
// unmasked.
func TestShortSensitiveValueRefused(t *testing.T) {
	out := loadDiags(t, Options{Vars: []string{"pin=12"}}, `
variable "pin" {
  sensitive = true
}
endpoint "e" {
  host = "127.0.0.1"
}
smtp "a" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    password = "ab"
  }
}
`)
	for _, want := range []string{
		"test.hcl:2:1: Error: Sensitive value too short to mask",
		"test.hcl:12:16: Error: Sensitive value too short to mask",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q, got:\n%s", want, out)
		}
	}
	// Empty values are not refused here: there is nothing to mask.
	out = loadDiags(t, Options{Vars: []string{"pin="}}, `
variable "pin" {
  sensitive = true
}
`)
	if strings.Contains(out, "too short") {
		t.Errorf("an empty sensitive value is refused:\n%s", out)
	}
}

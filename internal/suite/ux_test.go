package suite

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingQuoteIsOneError: one missing closing quote makes the rest of
// the file a jumble of strings; the loader stops at the first syntax
// error and reports that one, not dozens.
func TestMissingQuoteIsOneError(t *testing.T) {
	src := `suite {
  name = "contoso"
}

endpoint "submission" {
  host = "smtp.office365.com
  port = 587
  tls  = "starttls"
}

smtp "scanner can submit" {
  endpoint = endpoint.submission
  auth {
    username  = "scanner@contoso.com"
    password  = "x-password"
    mechanism = "LOGIN"
  }
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["helpdesk@contoso.com"]
  expect {
    starttls = true
    rcpt     = "250"
  }
}
`
	l := NewLoader(Options{Environ: []string{}})
	_, diags := l.LoadSource("quote.hcl", []byte(src))
	if n := len(diags.Errs()); n != 1 {
		t.Errorf("%d errors, want 1: %v", n, diags)
	}
	var b bytes.Buffer
	_ = l.WriteDiagnostics(&b, diags, false, 0)
	if !strings.HasPrefix(b.String(), "quote.hcl:6:") {
		t.Errorf("the first diagnostic is not at the missing quote (line 6):\n%s", b.String())
	}
	if !strings.Contains(b.String(), "closing quote") {
		t.Errorf("the error does not mention a missing closing quote:\n%s", b.String())
	}
}

// TestMisspeltRequiredAttributeSuggestsFirst: `hots` for `host` gives the
// suggestion first, then the missing argument.
func TestMisspeltRequiredAttributeSuggestsFirst(t *testing.T) {
	for _, src := range []string{
		"endpoint \"e\" {\n  port = 25\n  hots = \"smtp.office365.com\"\n}\n",
		"endpoint \"e\" { host = \"127.0.0.1\" }\nsmtp \"c\" {\n  mail_from = \"a@contoso.com\"\n  endpont = endpoint.e\n}\n",
	} {
		out := loadDiags(t, Options{}, src)
		suggestion := strings.Index(out, "Did you mean")
		missing := strings.Index(out, "Missing required argument")
		if suggestion < 0 || missing >= 0 && missing < suggestion {
			t.Errorf("want the suggestion first, got:\n%s", out)
		}
	}
}

// TestDirectoryWithoutSuitesSaysWhatItHolds: a directory whose only
// *.hcl file is the -var-file, or a variables file, and whose suites are
// in suites/, gets a message that says so and names suites/.
func TestDirectoryWithoutSuitesSaysWhatItHolds(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "suites"), 0o755); err != nil {
		t.Fatal(err)
	}
	vars := filepath.Join(dir, "smtpdiag.vars.hcl")
	if err := os.WriteFile(vars, []byte("domain = \"contoso.com\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "suites", "a.hcl"), []byte("variable \"domain\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, opts := range []Options{
		{Environ: []string{}, VarFiles: []string{"smtpdiag.vars.hcl"}},
		{Environ: []string{}},
	} {
		l := NewLoader(opts)
		_, diags := l.LoadPaths(nil)
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 0)
		out := b.String()
		if strings.Contains(out, "holds no *.hcl files") || strings.Contains(out, "Unsupported argument") {
			t.Errorf("-var-file %v: misleading message:\n%s", opts.VarFiles, out)
		}
		for _, want := range []string{"smtpdiag.vars.hcl", "suites/"} {
			if !strings.Contains(out, want) {
				t.Errorf("-var-file %v: the message does not mention %q:\n%s", opts.VarFiles, want, out)
			}
		}
	}
}

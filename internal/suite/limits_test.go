package suite

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestEvalBudgetSuite loads suites that build more than the 64 MiB of
// the file's sandbox.Budget: one error, positioned in the expression that
// went over, which quotes no sensitive value; a suite that copies a large
// variable a few times still loads.
func TestEvalBudgetSuite(t *testing.T) {
	// The large variable is not the sensitive one: scrubbing a 1 MiB
	// secret out of the diagnostics is a cost of its own.
	secret := `variable "secret" {
  type      = string
  sensitive = true
  default   = "topsecret!"
}
variable "s" {
  type    = string
  default = join("", [for i in range(1024) : "` + strings.Repeat("0123456789", 100) + `"])
}
endpoint "e" { host = "127.0.0.1" }
`
	check := func(attrs string) string {
		return secret + "smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"a@contoso.com\"\n" + attrs + "}\n"
	}
	cases := []struct {
		name, src, at string
	}{
		{"for", check("  rcpt_to = [for i in range(100) : \"${var.secret}${var.s}@contoso.com\"]\n"), `"${var.secret}${var.s}@contoso.com"`},
		{"for key", check("  message {\n    headers = {for i in range(100) : \"${var.secret}${var.s}${i}\" => \"x\"}\n  }\n"), `"${var.secret}${var.s}${i}"`},
		// Each body costs about 16 MiB (its interpolations, then its
		// value): the fourth one goes over.
		{"attributes", secret + strings.Repeat("smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"a@contoso.com\"\n  message {\n    body = \""+
			strings.Repeat("${var.s}", 8)+"${var.secret}\"\n  }\n}\n", 6), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLoader(Options{Environ: []string{"HOME=/root"}})
			src := c.src
			if c.name == "attributes" {
				for i := range 6 {
					src = strings.Replace(src, `smtp "c" {`, fmt.Sprintf(`smtp "c%d" {`, i), 1)
				}
			}
			_, diags := l.LoadSource("t.hcl", []byte(src))
			var budget []*hcl.Diagnostic
			for _, d := range diags {
				if d.Summary == "Expression too large" {
					budget = append(budget, d)
				}
			}
			if len(budget) == 0 {
				t.Fatalf("no budget error: %v", diags)
			}
			if len(budget) > 1 {
				t.Errorf("%d budget errors", len(budget))
			}
			rng := budget[0].Subject
			if rng == nil || rng.Filename != "t.hcl" {
				t.Fatalf("budget error at %v", rng)
			}
			if c.at != "" {
				if got := src[rng.Start.Byte:rng.End.Byte]; got != c.at && !strings.Contains(c.at, got) {
					t.Errorf("budget error at %q, want %q", got, c.at)
				}
			}
			var out bytes.Buffer
			if err := l.WriteDiagnostics(&out, diags, false, 100); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "topsecret") {
				t.Errorf("the diagnostics quote the sensitive value:\n%s", out.String()[:min(out.Len(), 2000)])
			}
		})
	}
	// Eight copies of a 1 MiB variable are far within the budget.
	l := NewLoader(Options{Environ: []string{"HOME=/root"}})
	s, diags := l.LoadSource("t.hcl", []byte(check("  rcpt_to = [\"b@contoso.com\"]\n  message {\n    body = \"${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}\"\n  }\n")))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if n := len(s.Checks[0].Message.Body); n != 8*1024*1000 {
		t.Errorf("body of %d bytes", n)
	}
}

// TestEvalContextSuggestions checks that the context with the budget
// function still lets HCL suggest the function a misspelt name meant.
func TestEvalContextSuggestions(t *testing.T) {
	src := "endpoint \"e\" { host = \"127.0.0.1\" }\nsmtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = uper(\"a@contoso.com\")\n}\n"
	_, diags := NewLoader(Options{}).LoadSource("t.hcl", []byte(src))
	if !strings.Contains(diags.Error(), `Did you mean "upper"?`) {
		t.Errorf("no suggestion: %v", diags)
	}
}

// TestLongSensitiveValueInDiagnostic: a function error quotes its argument,
// which the loader masks. A long, repetitive sensitive value used to make
// that masking take over a minute (strings.Replacer's set-up); it must be
// masked, and quickly enough that this test is unremarkable.
func TestLongSensitiveValueInDiagnostic(t *testing.T) {
	secret := strings.Repeat("ab", 1<<18)
	src := "variable \"s\" {\n  sensitive = true\n  default = \"" + secret + "\"\n}\n" +
		"endpoint \"e\" {\n  host = \"127.0.0.1\"\n  port = tonumber(var.s)\n}\n"
	_, diags := NewLoader(Options{Environ: []string{}}).LoadSource("big.hcl", []byte(src))
	if !diags.HasErrors() {
		t.Fatal("tonumber of a non-number decoded without an error")
	}
	text := diags.Error()
	if strings.Contains(text, secret[:64]) {
		t.Fatal("the sensitive value appears in a diagnostic")
	}
	// The quoted value is replaced by its length (it was once masked as
	// "****"; a length tells an empty or truncated secret from the right
	// one).
	if !strings.Contains(text, "(sensitive value, 524288 bytes)") {
		t.Fatalf("diagnostic does not give the value's length: %.300s", text)
	}
}

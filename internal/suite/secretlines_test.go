package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSnippetHidesSecrets: a secret written into a suite file (a password,
// a token, a sensitive variable's default, key material where a key or a
// certificate goes, as text, heredoc or escapes) is in no snippet or
// message; references, env() and file() calls, and paths stay readable.
func TestSnippetHidesSecrets(t *testing.T) {
	dir := t.TempDir()
	writeCertificate(t, dir, "relay")
	const ed25519 = "MC4CAQAwBQYDK2VwBCIEIPo9nJFKnmxfCG0SNejuuD4h5Xfrb6EGsrFi9vPI0GxY"
	for _, tc := range []struct {
		name, src string
		secrets   []string // none may appear
		shown     []string // each must appear
	}{
		{"a password without a user name", `
endpoint "mx" { host = "127.0.0.1" }
smtp "x" {
  endpoint = endpoint.mx
  auth { password = "Corr3ct-Horse" }
}`, []string{"Corr3ct-Horse"}, []string{`auth { password = (17 bytes not shown: a secret)`}},
		{"a heredoc password", `
endpoint "mx" { host = "127.0.0.1" }
smtp "x" {
  endpoint = endpoint.mx
  auth {
    username  = "a@contoso.com"
    password  = <<EOT
hunter2
EOT
    mechanism = "bogus"
  }
}`, []string{"hunter2"}, []string{`mechanism = "bogus"`}},
		{"escapes in a password", `
endpoint "mx" { host = "127.0.0.1" }
smtp "x" {
  endpoint = endpoint.mx
  auth {
    username  = "a@contoso.com"
    password  = "multi\nline-secret-part"
    token     = "another-secret"
  }
}`, []string{"line-secret-part", "another-secret", "multi"}, nil},
		{"a sensitive default of the wrong type", `
variable "pw" {
  sensitive = true
  type      = number
  default   = "Tr0ub4dor&3"
}
endpoint "mx" { host = "127.0.0.1" }
smtp "x" {
  endpoint = endpoint.mx
}`, []string{"Tr0ub4dor"}, nil},
		{"a one-line key where a key file goes", `
endpoint "mx" {
  host               = "127.0.0.1"
  client_certificate = "relay.crt"
  client_key         = "` + ed25519 + `"
}
smtp "x" {
  endpoint = endpoint.mx
}`, []string{ed25519[10:40]}, []string{"client_key (sensitive value, 64 bytes)"}},
		{"a path and a reference stay", `
variable "key_file" { default = "relay.key.missing" }
endpoint "mx" {
  host               = "127.0.0.1"
  client_certificate = file("relay.crt")
  client_key         = var.key_file
}
smtp "x" {
  endpoint = endpoint.mx
  auth {
    username  = "a@contoso.com"
    password  = env("SMTP_PASSWORD")
    mechanism = "bogus"
  }
}`, nil, []string{"relay.key.missing: no such file", "client_key         = var.key_file", `password  = env("SMTP_PASSWORD")`}},
	} {
		path := filepath.Join(dir, "s.hcl")
		if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
			t.Fatal(err)
		}
		l := NewLoader(Options{Environ: []string{}})
		_, diags := l.LoadFile(path)
		var b strings.Builder
		if err := l.WriteDiagnostics(&b, diags, false, 0); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !diags.HasErrors() {
			t.Errorf("%s: no error", tc.name)
		}
		for _, s := range tc.secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: %q shown:\n%s", tc.name, s, out)
			}
		}
		for _, s := range tc.shown {
			if !strings.Contains(out, s) {
				t.Errorf("%s: %q not shown:\n%s", tc.name, s, out)
			}
		}
	}
}

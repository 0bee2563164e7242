package suite

import (
	"os"
	"path/filepath"
	"testing"
)

// nfd is "Café" with the accent as a combining character (U+0065 U+0301),
// the form macOS keyboards and some password managers produce; cty
// normalizes every string to NFC (U+00E9).
const (
	nfd = "Cafe\u0301-Passw0rd"
	nfc = "Caf\u00e9-Passw0rd"
)

// TestWireStringsKeepTheirBytes: strings that reach the wire are sent
// exactly as given, not NFC-normalized: a password in NFD form from -var,
// the environment, a -var-file, a default or a literal, and addresses,
// subjects, bodies and headers.
func TestWireStringsKeepTheirBytes(t *testing.T) {
	dir := t.TempDir()
	varFile := filepath.Join(dir, "v.vars")
	if err := os.WriteFile(varFile, []byte("from_file = \""+nfd+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "body.txt"), []byte("Body "+nfd+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `
variable "from_var" {
  sensitive = true
}
variable "from_env" {
  sensitive = true
  default   = env("NFD_PASSWORD")
}
variable "from_file" {}
variable "from_default" {
  default = "` + nfd + `"
}
variable "user" {
  default = "jose\u0301@contoso.com"
}
endpoint "e" {
  host = "127.0.0.1"
}
smtp "var" {
  endpoint = endpoint.e
  auth {
    username = var.user
    password = var.from_var
  }
}
smtp "env" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    password = var.from_env
  }
}
smtp "file" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    token    = "${var.from_file}"
  }
}
smtp "default" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    password = "pre-${var.from_default}"
  }
}
smtp "literal" {
  endpoint  = endpoint.e
  auth {
    username = "scanner@contoso.com"
    password = "` + nfd + `"
  }
  mail_from = var.user
  rcpt_to   = [var.user, "b@contoso.com"]
  message {
    subject = "Subject ${var.from_default}"
    body    = file("body.txt")
    headers = { "X-Test" = var.from_default }
  }
}
`
	s := load(t, Options{
		Vars:     []string{"from_var=" + nfd},
		VarFiles: []string{varFile},
		Environ:  []string{"NFD_PASSWORD=" + nfd},
	}, filepath.Join(dir, "s.hcl"), src)
	const user = "jose\u0301@contoso.com"
	checks := map[string]*SMTPCheck{}
	for _, c := range s.Checks {
		checks[c.Label] = c
	}
	for label, want := range map[string]string{"var": nfd, "env": nfd, "default": "pre-" + nfd, "literal": nfd} {
		if got := checks[label].Auth.Password; got != want {
			t.Errorf("%s: password %+q, want %+q", label, got, want)
		}
	}
	if got := checks["file"].Auth.Token; got != nfd {
		t.Errorf("token %+q, want %+q", got, nfd)
	}
	if got := checks["var"].Auth.Username; got != user {
		t.Errorf("username %+q, want %+q", got, user)
	}
	c := checks["literal"]
	if c.MailFrom == nil || *c.MailFrom != user || len(c.RcptTo) != 2 || c.RcptTo[0] != user {
		t.Errorf("envelope %+q %+q", *c.MailFrom, c.RcptTo)
	}
	m := c.Message
	if m.Subject != "Subject "+nfd || m.Body != "Body "+nfd+"\n" || m.Headers["X-Test"] != nfd || m.From != user {
		t.Errorf("message %+q", m)
	}
	// Both forms are masked.
	for _, form := range []string{nfd, nfc} {
		if got := s.Redactor.String(form); got == form {
			t.Errorf("%+q is not masked", form)
		}
	}
}

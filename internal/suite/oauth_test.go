package suite

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/smtpdiag/smtpdiag/internal/oauth"
	"github.com/smtpdiag/smtpdiag/internal/oauth/idptest"
)

const (
	oauthSecret = "Qx8~sEcReT.value-0123456789abcdefGHIJ"
	oauthClient = "11111111-2222-4333-8444-555555555555"
)

// oauthCheck is an smtp check whose auth block holds an oauth block with
// the given lines.
func oauthCheck(label, lines string) string {
	return fmt.Sprintf(`
smtp %q {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
%s
    }
  }
}
`, label, lines)
}

// oauthFile writes a suite with a submission endpoint, a sensitive
// variable secret and the given checks to dir, and loads it.
func oauthFile(t *testing.T, dir string, opts Options, checks string) (*Suite, hcl.Diagnostics, string) {
	t.Helper()
	src := `
variable "secret" {
  sensitive = true
  default   = "` + oauthSecret + `"
}
endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
}
` + checks
	path := filepath.Join(dir, "oauth.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if opts.Environ == nil {
		opts.Environ = []string{}
	}
	l := NewLoader(opts)
	s, diags := l.LoadFile(path)
	var b bytes.Buffer
	if err := l.WriteDiagnostics(&b, diags, false, 0); err != nil {
		t.Fatal(err)
	}
	return s, diags, b.String()
}

// writeCertificate writes name.crt and name.key, a certificate credential,
// to dir.
func writeCertificate(t *testing.T, dir, name string) idptest.Certificate {
	t.Helper()
	c, err := idptest.NewCertificate(name)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, name+".crt"), c.CertPEM, 0o600)
	os.WriteFile(filepath.Join(dir, name+".key"), c.KeyPEM, 0o600)
	return c
}

// TestOAuthBlockDecodes: every attribute maps onto oauth.Config; XOAUTH2
// is the mechanism; the certificate and key are read when the suite is
// loaded, from files or as PEM text; the client secret and the key (whole
// and each line) are sensitive.
func TestOAuthBlockDecodes(t *testing.T) {
	dir := t.TempDir()
	cert := writeCertificate(t, dir, "app")
	os.WriteFile(filepath.Join(dir, "idp-ca.pem"), cert.CertPEM, 0o600)
	s, diags, out := oauthFile(t, dir, Options{}, oauthCheck("secret", `
      tenant        = "contoso.onmicrosoft.com"
      client_id     = "`+oauthClient+`"
      client_secret = var.secret
      scope         = "https://outlook.office365.com/.default"
      authority     = "https://login.microsoftonline.us/"
      ca_file       = "idp-ca.pem"`)+
		oauthCheck("certificate files", `
      tenant      = "8c1b2f4e-3a5d-4e6f-9a0b-1c2d3e4f5a6b"
      client_id   = "`+oauthClient+`"
      certificate = "app.crt"
      key         = "app.key"`)+
		oauthCheck("certificate file()", `
      tenant      = "8c1b2f4e-3a5d-4e6f-9a0b-1c2d3e4f5a6b"
      client_id   = "`+oauthClient+`"
      certificate = file("app.crt")
      key         = file("app.key")`)+
		oauthCheck("device code", `
      tenant    = "contoso.onmicrosoft.com"
      client_id = "`+oauthClient+`"
      flow      = "device_code"`)+
		oauthCheck("literal secret", `
      tenant        = "contoso.onmicrosoft.com"
      client_id     = "`+oauthClient+`"
      client_secret = "Literal~Client~Secret-0123"`))
	if diags.HasErrors() {
		t.Fatal(out)
	}
	byLabel := map[string]*Auth{}
	for _, c := range s.Checks {
		byLabel[c.Label] = c.Auth
		if c.Auth.Mechanism != "XOAUTH2" || c.Auth.Password != "" || c.Auth.Token != "" || c.Auth.OAuth == nil {
			t.Errorf("%s: auth %+v", c.Label, c.Auth)
		}
	}
	cfg := byLabel["secret"].OAuth.Config()
	want := oauth.Config{Tenant: "contoso.onmicrosoft.com", ClientID: oauthClient, ClientSecret: oauthSecret,
		Scope: "https://outlook.office365.com/.default", Authority: "https://login.microsoftonline.us/", ExtraRoots: cert.CertPEM}
	if cfg.Tenant != want.Tenant || cfg.ClientID != want.ClientID || cfg.ClientSecret != want.ClientSecret || cfg.Scope != want.Scope ||
		cfg.Authority != want.Authority || !bytes.Equal(cfg.ExtraRoots, want.ExtraRoots) || cfg.Flow != "" {
		t.Errorf("config %#v", cfg)
	}
	if o := byLabel["secret"].OAuth; o.CAFile != filepath.Join(dir, "idp-ca.pem") {
		t.Errorf("ca_file %q", o.CAFile)
	}
	for _, label := range []string{"certificate files", "certificate file()"} {
		cfg := byLabel[label].OAuth.Config()
		if !bytes.Equal(cfg.CertificatePEM, cert.CertPEM) || !bytes.Equal(cfg.KeyPEM, cert.KeyPEM) || cfg.ClientSecret != "" {
			t.Errorf("%s: certificate %d bytes, key %d bytes", label, len(cfg.CertificatePEM), len(cfg.KeyPEM))
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", label, err)
		}
	}
	if o := byLabel["certificate files"].OAuth; o.CertificateFile != filepath.Join(dir, "app.crt") || o.KeyFile != filepath.Join(dir, "app.key") {
		t.Errorf("files %q %q", o.CertificateFile, o.KeyFile)
	}
	if o := byLabel["certificate file()"].OAuth; o.CertificateFile != "" || o.KeyFile != "" {
		t.Errorf("file(): files %q %q", o.CertificateFile, o.KeyFile)
	}
	if f := byLabel["device code"].OAuth.Flow; f != oauth.DeviceCode {
		t.Errorf("flow %q", f)
	}
	// The secret and the key are masked; the certificate is not secret.
	lines := strings.Split(strings.TrimSpace(string(cert.KeyPEM)), "\n")
	for _, secret := range append([]string{oauthSecret, "Literal~Client~Secret-0123", string(cert.KeyPEM)}, lines[1:len(lines)-1]...) {
		if got := s.Redactor.String("<" + secret + ">"); got != "<****>" {
			t.Errorf("%.20q... is not masked: %.40q", secret, got)
		}
	}
	certLine := strings.Split(string(cert.CertPEM), "\n")[3]
	if got := s.Redactor.String(certLine); got != certLine {
		t.Errorf("a line of the certificate is masked")
	}
	// Printing the block shows neither the secret nor the key.
	for _, a := range byLabel {
		for _, form := range []string{fmt.Sprint(*a.OAuth), fmt.Sprintf("%+v", *a.OAuth), fmt.Sprintf("%#v", a.OAuth)} {
			if strings.Contains(form, oauthSecret) || strings.Contains(form, lines[5]) {
				t.Errorf("printing the block shows a secret: %.200s", form)
			}
		}
	}
}

// TestOAuthBadInput: each oauth block that cannot work is an error at its
// attribute, before anything runs; the secret and the key are never
// quoted.
func TestOAuthBadInput(t *testing.T) {
	dir := t.TempDir()
	cert := writeCertificate(t, dir, "app")
	other := writeCertificate(t, dir, "other")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a certificate\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "both.pem"), append(append([]byte{}, cert.CertPEM...), cert.KeyPEM...), 0o600)
	os.WriteFile(filepath.Join(dir, "twokeys.key"), append(append([]byte{}, cert.KeyPEM...), other.KeyPEM...), 0o600)
	ecKey := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	os.WriteFile(filepath.Join(dir, "ec.key"), ecKey, 0o600)
	outside := t.TempDir()
	writeCertificate(t, outside, "far")
	app := `
      tenant    = "contoso.onmicrosoft.com"
      client_id = "` + oauthClient + `"`
	for _, tc := range []struct {
		name, lines, want string
		opts              Options
	}{
		{"missing tenant", `client_id = "` + oauthClient + `"
      client_secret = var.secret`, `The argument "tenant" is required`, Options{}},
		{"missing client_id", `tenant = "contoso.onmicrosoft.com"
      client_secret = var.secret`, `The argument "client_id" is required`, Options{}},
		{"empty tenant", `tenant = " "
      client_id = "` + oauthClient + `"
      client_secret = var.secret`, "Invalid tenant", Options{}},
		{"tenant with a path", `tenant = "contoso.com/v2.0"
      client_id = "` + oauthClient + `"
      client_secret = var.secret`, "is not a tenant ID or domain", Options{}},
		{"http authority", app + `
      client_secret = var.secret
      authority = "http://login.microsoftonline.com"`, "Invalid authority", Options{}},
		{"authority with a tenant", app + `
      client_secret = var.secret
      authority = "https://login.microsoftonline.com/contoso.onmicrosoft.com"`, "Invalid authority", Options{}},
		{"not a certificate", app + `
      certificate = "notes.txt"
      key = "app.key"`, "The certificate holds no PEM certificate", Options{}},
		{"not a key pair", app + `
      certificate = "app.crt"
      key = "other.key"`, "Certificate and key are not a pair", Options{}},
		{"no key", app + `
      certificate = "app.crt"`, "The certificate needs its private key", Options{}},
		{"two keys", app + `
      certificate = "app.crt"
      key = "twokeys.key"`, "holds more than one private key", Options{}},
		{"EC key", app + `
      certificate = "app.crt"
      key = "ec.key"`, "is an EC key", Options{}},
		{"key without certificate", app + `
      client_secret = var.secret
      key = "app.key"`, "key without certificate", Options{}},
		{"missing certificate file", app + `
      certificate = "gone.crt"
      key = "app.key"`, "Cannot read certificate", Options{}},
		{"certificate outside the tree", app + `
      certificate = "` + filepath.ToSlash(filepath.Join(outside, "far.crt")) + `"
      key = "` + filepath.ToSlash(filepath.Join(outside, "far.key")) + `"`, "certificate reads only inside the suite's directory tree (add a directory with --allow-read DIR)", Options{}},
		{"certificate a device", app + `
      certificate = "/dev/zero"
      key = "app.key"`, "is not a regular file", Options{}},
		{"secret and certificate", app + `
      client_secret = var.secret
      certificate = "both.pem"`, "Both client_secret and certificate in oauth", Options{}},
		{"neither", app, "Missing client_secret or certificate", Options{}},
		{"device code with a secret", app + `
      client_secret = var.secret
      flow = "device_code"`, "A client credential with the device code flow", Options{}},
		{"unknown flow", app + `
      flow = "password"`, `"password" is not "client_credentials" or "device_code"`, Options{}},
		{"device code, nobody to sign in", app + `
      flow = "device_code"`, "Device code flow without anyone to sign in", Options{NoPrompt: "standard input is not a terminal"}},
		{"empty secret", app + `
      client_secret = ""`, "Empty client_secret", Options{}},
		{"short secret", app + `
      client_secret = "ab"`, "Sensitive value too short to mask", Options{}},
		{"secret with a line break", app + `
      client_secret = "${var.secret}\nDATA"`, "Invalid client_secret", Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.lines, "/dev/zero") && runtime.GOOS == "windows" {
				t.Skip("no /dev/zero")
			}
			_, diags, out := oauthFile(t, dir, tc.opts, oauthCheck("c", tc.lines))
			if !diags.HasErrors() || !strings.Contains(out, tc.want) {
				t.Fatalf("want %q, got:\n%s", tc.want, out)
			}
			for _, d := range diags {
				if d.Subject == nil || d.Subject.Filename == "" || d.Subject.Start.Line < 11 {
					t.Errorf("diagnostic without a position in the check: %s (%v)", d.Summary, d.Subject)
				}
			}
			if strings.Contains(out, oauthSecret) || strings.Contains(out, strings.Split(string(cert.KeyPEM), "\n")[4]) {
				t.Errorf("a secret shows:\n%s", out)
			}
		})
	}
	// The same block with another mechanism, a password or a token.
	for _, tc := range []struct{ extra, want string }{
		{`mechanism = "LOGIN"`, "OAuth needs XOAUTH2"},
		{`password = "hunter2-hunter2"`, "Both oauth and password in auth"},
		{`token = "eyJ0eXAiOiJKV1Qi"`, "Both oauth and token in auth"},
		{`oauth {
      tenant = "contoso.onmicrosoft.com"
      client_id = "x"
      client_secret = var.secret
    }`, "Duplicate oauth block"},
	} {
		check := strings.Replace(oauthCheck("c", app+"\n      client_secret = var.secret"), `username = "scanner@contoso.com"`,
			`username = "scanner@contoso.com"`+"\n    "+tc.extra, 1)
		_, diags, out := oauthFile(t, dir, Options{}, check)
		if !diags.HasErrors() || !strings.Contains(out, tc.want) {
			t.Errorf("%s: want %q, got:\n%s", tc.extra, tc.want, out)
		}
	}
	// mechanism = "XOAUTH2" is what the default is.
	check := strings.Replace(oauthCheck("c", app+"\n      client_secret = var.secret"), `username = "scanner@contoso.com"`,
		`username = "scanner@contoso.com"`+"\n    mechanism = \"xoauth2\"", 1)
	if _, diags, out := oauthFile(t, dir, Options{}, check); diags.HasErrors() {
		t.Error(out)
	}
}

// TestOAuthValidateWithoutValues: smtpdiag validate checks an oauth block
// as far as it can without values: a variable without a value passes
// every rule its value would be judged by, what is known is judged.
func TestOAuthValidateWithoutValues(t *testing.T) {
	dir := t.TempDir()
	vars := `
variable "tenant" {}
variable "client_id" {}
variable "authority" {}
variable "flow" {}
variable "app_secret" {
  sensitive = true
  default   = env("APP_SECRET")
}
`
	_, diags, out := oauthFile(t, dir, Options{Validate: true}, vars+oauthCheck("unknowns", `
      tenant        = var.tenant
      client_id     = var.client_id
      client_secret = var.app_secret
      authority     = var.authority`)+oauthCheck("unknown flow", `
      tenant    = var.tenant
      client_id = var.client_id
      flow      = var.flow`))
	if diags.HasErrors() {
		t.Errorf("validate without values:\n%s", out)
	}
	_, diags, out = oauthFile(t, dir, Options{Validate: true}, vars+oauthCheck("known", `
      tenant        = var.tenant
      client_id     = var.client_id
      client_secret = var.app_secret
      authority     = "http://login.microsoftonline.com"`)+oauthCheck("structure", `
      tenant    = var.tenant
      client_id = var.client_id`))
	if !strings.Contains(out, "Invalid authority") || !strings.Contains(out, "Missing client_secret or certificate") {
		t.Errorf("validate without values misses what it can check:\n%s", out)
	}
	// validate prompts for nothing: the device code flow is valid there.
	_, diags, out = oauthFile(t, dir, Options{Validate: true}, oauthCheck("device", `
      tenant    = "contoso.onmicrosoft.com"
      client_id = "`+oauthClient+`"
      flow      = "device_code"`))
	if diags.HasErrors() {
		t.Errorf("validate refuses the device code flow:\n%s", out)
	}
}

// TestOAuthSecretsHiddenFromDiagnostics: a variable that goes into an
// oauth block's client_secret or key is as secret as a password, though
// not declared sensitive: HCL's notes on a failed expression and the
// decoder's messages give its length, never its value.
func TestOAuthSecretsHiddenFromDiagnostics(t *testing.T) {
	out := loadDiags(t, Options{}, `
variable "app_secret" {
  default = "Secret-From-The-Var"
}
variable "app_key" {
  default = "Key-From-The-Var"
}
endpoint "e" {
  host = "127.0.0.1"
  port = tonumber(var.app_secret)
  helo = tonumber(var.app_key)
}
smtp "a" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant        = "contoso.onmicrosoft.com"
      client_id     = "`+oauthClient+`"
      client_secret = var.app_secret
    }
  }
}
smtp "b" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant      = "contoso.onmicrosoft.com"
      client_id   = "`+oauthClient+`"
      certificate = "app.crt"
      key         = var.app_key
    }
  }
}
`)
	for _, secret := range []string{"Secret-From-The-Var", "Key-From-The-Var"} {
		if strings.Contains(out, secret) {
			t.Errorf("%s shows:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "cannot convert (sensitive value, 19 bytes) to number") || !strings.Contains(out, "cannot convert (sensitive value, 16 bytes) to number") {
		t.Errorf("want the note to give the length:\n%s", out)
	}
}

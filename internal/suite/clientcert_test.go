package suite

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadClientCert writes an endpoint with the given client certificate
// attributes to dir and loads it, returning the endpoint (nil on errors)
// and the rendered diagnostics.
func loadClientCert(t *testing.T, dir, attrs string) (*Endpoint, string) {
	t.Helper()
	return loadClientCertWith(t, Options{Environ: []string{}}, dir, attrs)
}

func loadClientCertWith(t *testing.T, opts Options, dir, attrs string) (*Endpoint, string) {
	t.Helper()
	src := `
variable "key_text" {
  sensitive = true
  default   = ""
}
endpoint "mx" {
  host = "contoso-com.mail.protection.outlook.com"
` + attrs + `
}
smtp "relay" {
  endpoint = endpoint.mx
}
`
	if opts.Validate {
		src += "variable \"unset\" {}\n"
	}
	path := filepath.Join(dir, "relay.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	l := NewLoader(opts)
	s, diags := l.LoadFile(path)
	var b bytes.Buffer
	if err := l.WriteDiagnostics(&b, diags, false, 0); err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		return nil, b.String()
	}
	return s.Checks[0].Endpoint, b.String()
}

// TestClientCertificate: client_certificate and client_key load a key
// pair when the suite is loaded, from two files, one file holding both,
// or PEM text; "" presents none; a key alone, a key that is not the
// certificate's, or a file outside the suite's tree is an error at its
// position, and no diagnostic quotes the key.
func TestClientCertificate(t *testing.T) {
	dir := t.TempDir()
	c := writeCertificate(t, dir, "relay")
	other := writeCertificate(t, dir, "other")
	os.WriteFile(filepath.Join(dir, "both.pem"), append(append([]byte{}, c.CertPEM...), c.KeyPEM...), 0o600)

	for _, attrs := range []string{
		`client_certificate = "relay.crt"
  client_key = "relay.key"`,
		`client_certificate = "both.pem"`,
		`client_certificate = file("relay.crt")
  client_key = file("relay.key")`,
	} {
		ep, diags := loadClientCert(t, dir, attrs)
		if ep == nil || ep.ClientCertificate == nil || len(ep.ClientCertificate.Certificate) == 0 {
			t.Errorf("%s: no key pair:\n%s", attrs, diags)
		}
	}
	if ep, diags := loadClientCert(t, dir, `client_certificate = ""
  client_key = var.key_text`); ep == nil || ep.ClientCertificate != nil {
		t.Errorf("empty: %+v\n%s", ep, diags)
	}

	keyLines := privateKeyTexts(other.KeyPEM)
	for _, tc := range []struct{ attrs, want string }{
		{`client_key = "relay.key"`, "relay.hcl:8:1: Error: client_key without client_certificate"},
		{`client_certificate = "relay.crt"
  client_key = "other.key"`, "relay.hcl:8:22: Error: Cannot load client_certificate"},
		{`client_certificate = "relay.crt"`, "Cannot load client_certificate"},
		{`client_certificate = "/etc/hostname"`, "Cannot read client_certificate"},
		{`client_certificate = "relay.crt"
  client_key = "` + strings.ReplaceAll(string(other.KeyPEM), "\n", `\n`) + `x"`, "Cannot load client_certificate"},
	} {
		ep, diags := loadClientCert(t, dir, tc.attrs)
		if ep != nil || !strings.Contains(diags, tc.want) {
			t.Errorf("%s: want %q in\n%s", tc.attrs, tc.want, diags)
		}
		for _, secret := range keyLines {
			if strings.Contains(diags, secret) {
				t.Errorf("%s: the diagnostic quotes the key:\n%s", tc.attrs, diags)
				break
			}
		}
	}

	// null is unset, like "": the certificate's file holds the key.
	if ep, diags := loadClientCert(t, dir, `client_certificate = "both.pem"
  client_key = null`); ep == nil || ep.ClientCertificate == nil {
		t.Errorf("client_key = null: %+v\n%s", ep, diags)
	}
	if _, diags := loadClientCert(t, dir, `client_certificate = null
  client_key = "relay.key"`); !strings.Contains(diags, "client_key without client_certificate") {
		t.Errorf("client_certificate = null with a key:\n%s", diags)
	}
}

// TestClientKeyNeverShown: key material written into the suite, valid or
// not, with or without a certificate, is in no diagnostic, snippet
// included, and reaches the suite's redactor.
func TestClientKeyNeverShown(t *testing.T) {
	dir := t.TempDir()
	c := writeCertificate(t, dir, "relay")
	keyPEM := strings.TrimSpace(string(c.KeyPEM))
	var bodyLines []string
	for _, l := range strings.Split(keyPEM, "\n") {
		if !strings.HasPrefix(l, "-----") {
			bodyLines = append(bodyLines, l)
		}
	}
	broken := strings.Join(bodyLines, "\n") // no BEGIN line: no PEM
	for _, attrs := range []string{
		"client_key = <<EOT\n" + keyPEM + "\nEOT",
		`client_key = "` + strings.ReplaceAll(keyPEM, "\n", `\n`) + `"`,
		`client_certificate = "relay.crt"
  client_key = <<EOT
` + broken + `
EOT`,
		`client_certificate = "relay.crt"
  client_key = "` + strings.ReplaceAll(broken, "\n", `\n`) + `"`,
	} {
		ep, diags := loadClientCert(t, dir, attrs)
		if ep != nil || diags == "" {
			t.Errorf("%.40s...: no error:\n%s", attrs, diags)
		}
		for _, l := range bodyLines {
			if strings.Contains(diags, l[:20]) {
				t.Errorf("%.40s...: the diagnostic shows the key:\n%s", attrs, diags)
				break
			}
		}
	}
	// A valid pair given as text: every form of the key is masked.
	l := NewLoader(Options{Environ: []string{}})
	src := "endpoint \"mx\" {\n  host = \"127.0.0.1\"\n  client_certificate = <<EOT\n" + string(c.CertPEM) + "EOT\n  client_key = <<EOT\n" + string(c.KeyPEM) + "EOT\n}\nsmtp \"x\" {\n  endpoint = endpoint.mx\n}\n"
	s, diags := l.LoadSource(filepath.Join(dir, "inline.hcl"), []byte(src))
	if diags.HasErrors() || s.Checks[0].Endpoint.ClientCertificate == nil {
		t.Fatalf("inline pair: %s", diags.Error())
	}
	masked := s.Redactor.String("key: " + keyPEM + " line: " + bodyLines[1])
	if strings.Contains(masked, bodyLines[1]) || strings.Contains(masked, bodyLines[0]) {
		t.Errorf("the redactor leaves the key: %s", masked)
	}
	if g := fmt.Sprintf("%#v", s.Checks[0].Endpoint); strings.Contains(g, "PrivateKey") || !strings.Contains(g, "client certificate: true") {
		t.Errorf("%%#v of the endpoint: %s", g)
	}
}

// TestClientCertificateUnderValidate: without values, the side that is
// known is still read and confined; only the pair is not checked.
func TestClientCertificateUnderValidate(t *testing.T) {
	dir := t.TempDir()
	writeCertificate(t, dir, "relay")
	opts := Options{Environ: []string{}, Validate: true}
	if _, diags := loadClientCertWith(t, opts, dir, `client_certificate = "missing.pem"
  client_key = var.unset`); !strings.Contains(diags, "Cannot read client_certificate") {
		t.Errorf("a missing certificate with an unknown key:\n%s", diags)
	}
	if _, diags := loadClientCertWith(t, opts, dir, `client_certificate = var.unset
  client_key = "/etc/hostname"`); !strings.Contains(diags, "Cannot read client_key") {
		t.Errorf("a key outside the tree with an unknown certificate:\n%s", diags)
	}
	if ep, diags := loadClientCertWith(t, opts, dir, `client_certificate = "relay.crt"
  client_key = var.unset`); ep == nil {
		t.Errorf("a good certificate with an unknown key:\n%s", diags)
	}
}

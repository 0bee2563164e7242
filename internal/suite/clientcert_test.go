package suite

import (
	"bytes"
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
	path := filepath.Join(dir, "relay.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	l := NewLoader(Options{Environ: []string{}})
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
}

package suite

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/pki"
)

const deviceSuite = `
variable "user" {
  default = "scanner@contoso.com"
}

device "reception copier" {
  listen   = "0.0.0.0:2525"
  hostname = "smtp.office365.com"
  certificate = "auto"
  require_tls = true
  accept_auth = true
  expect {
    starttls            = true
    tls_version         = ">= 1.2"
    offers_tls_versions = ["1.2", 1.3]
    ecdhe               = true
    auth_mechanism      = "login"
    auth_user           = var.user
    mail_from           = var.user
    rcpt_count          = ">= 1"
    message_size        = "< 10MB"
  }
  timeout = "5m"
}

device "warehouse scanner" {
  listen           = ":2526"
  require_tls      = false
  accept_auth      = false
  allow_legacy_tls = true
}
`

func TestDeviceBlock(t *testing.T) {
	s := load(t, Options{}, "copiers.hcl", deviceSuite)
	if len(s.Devices) != 2 || s.CheckCount() != 0 {
		t.Fatalf("devices %d, checks %d", len(s.Devices), s.CheckCount())
	}
	size, _ := assertions.ParseSizeComparison("< 10MB")
	want := &Device{
		Label:      "reception copier",
		Listen:     "0.0.0.0:2525",
		Hostname:   "smtp.office365.com",
		RequireTLS: true,
		AcceptAuth: true,
		Timeout:    5 * time.Minute,
		Expect: &assertions.DeviceExpect{
			StartTLS:          ptr(true),
			TLSVersion:        ptr(comparison(t, ">= 1.2")),
			OffersTLSVersions: []string{"1.2", "1.3"},
			ECDHE:             ptr(true),
			AuthMechanism:     ptr("LOGIN"),
			AuthUser:          ptr("scanner@contoso.com"),
			MailFrom:          ptr("scanner@contoso.com"),
			RcptCount:         ptr(comparison(t, ">= 1")),
			MessageSize:       &size,
		},
	}
	got := *s.Devices[0]
	got.DeclRange = want.DeclRange
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("device = %+v\nwant %+v\nexpect %+v\nwant %+v", got, *want, *got.Expect, *want.Expect)
	}
	if size.Bytes != 10<<20 {
		t.Errorf("10MB = %d octets", size.Bytes)
	}
	w := s.Devices[1]
	if w.Listen != ":2526" || w.RequireTLS || w.AcceptAuth || !w.AllowLegacyTLS || w.Timeout != DefaultDeviceTimeout ||
		w.Expect != nil || w.Hostname != DefaultDeviceHostname {
		t.Errorf("defaults = %+v", w)
	}
}

func TestDeviceCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.NewCA("device test")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(pki.LeafOptions{Names: []string{"smtp.office365.com"}})
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	src := `device "d" {
  certificate = "cert.pem"
  key         = "key.pem"
}`
	s := load(t, Options{}, filepath.Join(dir, "s.hcl"), src)
	if d := s.Devices[0]; d.CertFile != filepath.Join(dir, "cert.pem") || d.KeyFile != filepath.Join(dir, "key.pem") {
		t.Fatalf("files = %q %q", d.CertFile, d.KeyFile)
	}
}

func TestDeviceErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"host name in listen", `device "d" { listen = "laptop:2525" }`, "must name an IP address"},
		{"no port", `device "d" { listen = "0.0.0.0" }`, "must be an IP address and a port"},
		{"bad port", `device "d" { listen = "0.0.0.0:99999" }`, "invalid port"},
		{"key without file", `device "d" { key = "k.pem" }`, "key without a certificate file"},
		{"file without key", `device "d" { certificate = "c.pem" }`, "certificate without key"},
		{"missing files", `device "d" {
  certificate = "c.pem"
  key = "k.pem"
}`, "Cannot load certificate"},
		{"unknown mechanism", `device "d" { auth_mechanisms = ["NTLM"] }`, `"NTLM" is not one of PLAIN, LOGIN, XOAUTH2, CRAM-MD5`},
		{"mechanism not offered", `device "d" {
  expect { auth_mechanism = "PLAIN" }
}`, "the listener offers only LOGIN XOAUTH2 (add PLAIN to auth_mechanisms"},
		{"auth without AUTH", `device "d" {
  accept_auth = false
  expect { auth_user = "x@contoso.com" }
}`, "accept_auth = false offers no AUTH"},
		{"bad tls version", `device "d" {
  expect { offers_tls_versions = ["1.2", "2.0"] }
}`, `offers_tls_versions holds "2.0"`},
		{"bad size", `device "d" {
  expect { message_size = "< ten MB" }
}`, "invalid size comparison"},
		{"bad address", `device "d" {
  expect { mail_from = "a b@contoso.com" }
}`, "mail_from"},
		{"duplicate label", `device "d" {}
device "d" {}`, "Duplicate check label"},
		{"unknown attribute", `device "d" { port = 25 }`, "Unsupported argument"},
		{"comparison of tls", `device "d" {
  expect { tls_version = ">= 2" }
}`, "tls_version compares with a TLS version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := loadDiags(t, Options{}, tc.src)
			if !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics lack %q:\n%s", tc.want, got)
			}
		})
	}
}

func TestParseListen(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:2525": "0.0.0.0:2525",
		":2525":        ":2525",
		"[::1]:25":     "[::1]:25",
		" 127.0.0.1:0": "127.0.0.1:0",
	} {
		if got, err := ParseListen(in); err != nil || got != want {
			t.Errorf("ParseListen(%q) = %q, %v", in, got, err)
		}
	}
}

package runner

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// writeClientCertificate writes name.pem and name.key, a self-signed
// client certificate for dnsName, to dir.
func writeClientCertificate(t *testing.T, dir, name, dnsName string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: dnsName, Organization: []string{"Contoso"}},
		DNSNames:     []string{dnsName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}

// TestCertificateConnector: against the simulator playing a tenant with
// a certificate-based inbound connector for relay.contoso.com, the
// connector check relays with the device's certificate and is refused
// with 5.7.64 with another one or none; the record says what the server
// asked for and what was sent, and the migration matrix follows.
func TestCertificateConnector(t *testing.T) {
	sim, err := simulator.Start(simulator.Options{ConnectorCertificateNames: []string{"relay.contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	ca, err := sim.WriteCAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	writeClientCertificate(t, dir, "relay", "relay.contoso.com")
	writeClientCertificate(t, dir, "other", "printer.fabrikam.com")

	for _, tc := range []struct {
		cert, sent string
		relays     bool
	}{
		{"relay", "CN=relay.contoso.com,O=Contoso", true},
		{"other", "CN=printer.fabrikam.com,O=Contoso", false},
		{"", "", false},
	} {
		attrs := ""
		if tc.cert != "" {
			attrs = fmt.Sprintf("client_certificate = %q\n  client_key = %q", tc.cert+".pem", tc.cert+".key")
		}
		src := fmt.Sprintf(`endpoint "mx" {
  host        = "127.0.0.1"
  port        = %s
  ca_file     = %q
  server_name = "localhost"
  timeout     = "10s"
  %s
}
smtp "connector" {
  path      = "connector"
  endpoint  = endpoint.mx
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["someone@fabrikam.com"]
  expect {
    rcpt = "250"
    no   = ["5.7.64"]
  }
}
`, port(sim.MXAddr), ca, attrs)
		path := filepath.Join(dir, "connector.hcl")
		os.WriteFile(path, []byte(src), 0o600)
		s, diags := suite.NewLoader(suite.Options{Environ: []string{}}).LoadFile(path)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", tc.cert, diags.Error())
		}
		res := Run(context.Background(), []*suite.Suite{s}, Options{}, nil)[0]
		c := res.Checks[0]
		if (c.Status == result.Passed) != tc.relays {
			t.Errorf("%q: %s %q", tc.cert, c.Status, c.FirstFailure())
		}
		info := c.Conversation.TLS
		if info == nil || !info.ClientCertificateRequested {
			t.Fatalf("%q: the simulator's MX did not ask for a client certificate: %+v", tc.cert, info)
		}
		sent := ""
		if info.ClientCertificate != nil {
			sent = info.ClientCertificate.Subject
		}
		if sent != tc.sent {
			t.Errorf("%q: sent %q, want %q", tc.cert, sent, tc.sent)
		}
		want := map[bool]string{true: "yes", false: "no"}[tc.relays]
		if res.Paths == nil || res.Paths.Paths[5].Path != "connector" || res.Paths.Paths[5].Usable != want {
			t.Errorf("%q: the matrix %+v, want connector %s", tc.cert, res.Paths, want)
		}
		transcript := ""
		for _, l := range c.Conversation.Transcript {
			transcript += l.Text + "\n"
		}
		if strings.Contains(transcript, "PRIVATE KEY") || !strings.Contains(transcript, "the server asked for a client certificate") {
			t.Errorf("%q: transcript:\n%s", tc.cert, transcript)
		}
	}
}

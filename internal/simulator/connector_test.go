package simulator

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/pki"
)

// relayDenied is the MX endpoint's reply to a recipient outside the
// accepted domain that no connector lets through.
const relayDenied = "550 5.7.64 TenantAttribution; Relay Access Denied [" + DefaultMXHostname + "]"

// relayAccepted is its reply to one a connector lets through.
const relayAccepted = "250 2.1.5 Recipient OK"

// clientCert makes a client certificate (extended key usage ClientAuth
// unless eku says otherwise) with the subject common name cn and the
// DNS names dnsNames, issued by ca, or self-signed when ca is nil.
func clientCert(t *testing.T, ca *pki.CA, cn string, dnsNames []string, eku ...x509.ExtKeyUsage) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if eku == nil {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     dnsNames,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  eku,
	}
	parent, parentKey := tmpl, any(key)
	var chain [][]byte
	if ca != nil {
		parent, parentKey = ca.Cert, ca.Key
		chain = [][]byte{ca.Cert.Raw}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: append([][]byte{der}, chain...), PrivateKey: key}
}

// relayAttempt is what a client saw relaying through the MX endpoint.
type relayAttempt struct {
	reply string // the reply to RCPT TO:<rcpt>
	asked bool   // the server asked for a client certificate
}

// relayThroughMX connects to addr, runs STARTTLS presenting cert (none
// when nil), and returns the reply to RCPT TO:<rcpt>, and whether the
// server asked for a certificate in the handshake.
func relayThroughMX(t *testing.T, sim *Simulator, addr string, cert *tls.Certificate, rcpt string) relayAttempt {
	t.Helper()
	c := dial(t, addr)
	c.reply()
	c.cmd("EHLO relay.contoso.com")
	c.expect("STARTTLS", "220 2.0.0 SMTP server ready")
	var asked atomic.Bool
	cfg := clientTLSConfig(t, sim, "127.0.0.1")
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked.Store(true)
		if cert == nil {
			return &tls.Certificate{}, nil // an empty Certificate message
		}
		return cert, nil
	}
	conn := tls.Client(c.conn, cfg)
	if err := conn.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	c.conn, c.r = conn, bufio.NewReader(conn)
	c.cmd("EHLO relay.contoso.com")
	c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0 Sender OK")
	got := c.cmd("RCPT TO:<" + rcpt + ">")
	if len(got) != 1 {
		t.Fatalf("RCPT %s: got %q, want one line", rcpt, got)
	}
	return relayAttempt{reply: got[0], asked: asked.Load()}
}

// wantReply checks that a relay attempt's reply is want.
func wantReply(t *testing.T, what string, got relayAttempt, want string) {
	t.Helper()
	if got.reply != want {
		t.Errorf("%s: RCPT got %q, want %q", what, got.reply, want)
	}
}

func TestConnectorCertificateLetsTheClientRelay(t *testing.T) {
	var log syncBuffer
	sim := startSimulator(t, Options{ConnectorCertificateNames: []string{"relay.contoso.com"}, Log: &log})
	cert := clientCert(t, nil, "relay.contoso.com", []string{"relay.contoso.com"})
	got := relayThroughMX(t, sim, sim.MXAddr, cert, "someone@fabrikam.com")
	wantReply(t, "certificate for relay.contoso.com", got, relayAccepted)
	if !got.asked {
		t.Error("the MX endpoint did not ask for a client certificate")
	}
	if !strings.Contains(log.String(), "certificate-based connector applies: the client certificate matches TlsSenderCertificateName relay.contoso.com") {
		t.Errorf("log lacks the connector's decision:\n%s", log.String())
	}
}

func TestConnectorCertificateWithAnotherName(t *testing.T) {
	sim := startSimulator(t, Options{ConnectorCertificateNames: []string{"relay.contoso.com"}})
	cert := clientCert(t, nil, "relay.fabrikam.com", []string{"relay.fabrikam.com"})
	got := relayThroughMX(t, sim, sim.MXAddr, cert, "someone@fabrikam.com")
	wantReply(t, "certificate for relay.fabrikam.com", got, relayDenied)
}

func TestConnectorWithoutClientCertificate(t *testing.T) {
	sim := startSimulator(t, Options{ConnectorCertificateNames: []string{"relay.contoso.com"}})
	got := relayThroughMX(t, sim, sim.MXAddr, nil, "someone@fabrikam.com")
	wantReply(t, "no certificate", got, relayDenied)
	if !got.asked {
		t.Error("the MX endpoint did not ask for a client certificate")
	}
	// The accepted domain is served as ever.
	got = relayThroughMX(t, sim, sim.MXAddr, nil, "helpdesk@contoso.com")
	wantReply(t, "no certificate, accepted domain", got, relayAccepted)

	// Without TLS there is no certificate either.
	c := dial(t, sim.MXAddr)
	c.reply()
	c.cmd("EHLO relay.contoso.com")
	c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0")
	if got := c.cmd("RCPT TO:<someone@fabrikam.com>"); len(got) != 1 || got[0] != relayDenied {
		t.Errorf("without TLS: RCPT got %q, want %q", got, relayDenied)
	}
}

func TestConnectorRoots(t *testing.T) {
	ca, err := pki.NewCA("contoso issuing CA")
	if err != nil {
		t.Fatal(err)
	}
	sim := startSimulator(t, Options{
		ConnectorCertificateNames: []string{"relay.contoso.com"},
		ConnectorRoots:            ca.Pool(),
	})
	names := []string{"relay.contoso.com"}
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		want string
	}{
		{"issued by the trusted CA", clientCert(t, ca, "relay.contoso.com", names), relayAccepted},
		{"issued by the trusted CA, any extended key usage", clientCert(t, ca, "relay.contoso.com", names, x509.ExtKeyUsageAny), relayAccepted},
		{"self-signed", clientCert(t, nil, "relay.contoso.com", names), relayDenied},
		{"issued by the trusted CA for servers only", clientCert(t, ca, "relay.contoso.com", names, x509.ExtKeyUsageServerAuth), relayDenied},
		{"issued by the trusted CA for another name", clientCert(t, ca, "relay.fabrikam.com", []string{"relay.fabrikam.com"}), relayDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantReply(t, tc.name, relayThroughMX(t, sim, sim.MXAddr, tc.cert, "someone@fabrikam.com"), tc.want)
		})
	}
}

// TestConnectorCertificateNameMatching: names and wildcards as
// New-InboundConnector documents TlsSenderCertificateName.
func TestConnectorCertificateNameMatching(t *testing.T) {
	for _, tc := range []struct {
		name      string
		connector string
		cn        string
		dnsNames  []string
		want      string
	}{
		{"wildcard, one label", "*.contoso.com", "relay.contoso.com", []string{"relay.contoso.com"}, relayAccepted},
		// New-InboundConnector: a wildcard indicates "a domain and all
		// subdomains".
		{"wildcard, the domain itself", "*.contoso.com", "contoso.com", []string{"contoso.com"}, relayAccepted},
		{"wildcard, two labels", "*.contoso.com", "a.b.contoso.com", []string{"a.b.contoso.com"}, relayAccepted},
		{"wildcard, another domain", "*.contoso.com", "relay.fabrikam.com", []string{"relay.fabrikam.com"}, relayDenied},
		{"wildcard, a suffix that is no label", "*.contoso.com", "relaycontoso.com", []string{"relaycontoso.com"}, relayDenied},
		{"case", "Relay.Contoso.COM", "RELAY.contoso.com", []string{"RELAY.contoso.com"}, relayAccepted},
		{"wildcard, case", "*.CONTOSO.com", "Relay.Contoso.Com", []string{"Relay.Contoso.Com"}, relayAccepted},
		{"second SAN", "relay.contoso.com", "printer.contoso.com", []string{"printer.contoso.com", "relay.contoso.com"}, relayAccepted},
		{"common name without SANs", "relay.contoso.com", "relay.contoso.com", nil, relayAccepted},
		{"common name beside SANs that do not match", "relay.contoso.com", "relay.contoso.com", []string{"printer.contoso.com"}, relayDenied},
		{"exact name is no wildcard", "relay.contoso.com", "a.relay.contoso.com", []string{"a.relay.contoso.com"}, relayDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSimulator(t, Options{ConnectorCertificateNames: []string{tc.connector}})
			cert := clientCert(t, nil, tc.cn, tc.dnsNames)
			wantReply(t, tc.name, relayThroughMX(t, sim, sim.MXAddr, cert, "someone@fabrikam.com"), tc.want)
		})
	}
}

// The blocked and busy rules come before the connector's.
func TestConnectorKeepsTheOtherRecipientRules(t *testing.T) {
	sim := startSimulator(t, Options{ConnectorCertificateNames: []string{"relay.contoso.com"}})
	cert := clientCert(t, nil, "relay.contoso.com", []string{"relay.contoso.com"})
	for rcpt, want := range map[string]string{
		"blocked@fabrikam.com": "550 5.7.606 Access denied, banned sending IP [127.0.0.1].",
		"busy@fabrikam.com":    "451 4.7.500 Server busy.",
	} {
		got := relayThroughMX(t, sim, sim.MXAddr, cert, rcpt)
		if !strings.HasPrefix(got.reply, want) {
			t.Errorf("RCPT %s: got %q, want %q...", rcpt, got.reply, want)
		}
	}
}

// Only the MX endpoint with a connector asks for a certificate; without
// Options.ConnectorCertificateNames no endpoint does, so nothing changes
// for clients.
func TestNoCertificateRequestWithoutConnector(t *testing.T) {
	check := func(t *testing.T, sim *Simulator, addr string, implicit bool, wantAsked bool) {
		t.Helper()
		var asked atomic.Bool
		cfg := clientTLSConfig(t, sim, "127.0.0.1")
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked.Store(true)
			return &tls.Certificate{}, nil
		}
		if implicit {
			conn, err := tls.Dial("tcp", addr, cfg)
			if err != nil {
				t.Fatalf("TLS dial: %v", err)
			}
			conn.Close()
		} else {
			c := dial(t, addr)
			c.reply()
			c.cmd("EHLO scanner01.contoso.com")
			c.expect("STARTTLS", "220 2.0.0")
			if err := tls.Client(c.conn, cfg).Handshake(); err != nil {
				t.Fatalf("TLS handshake: %v", err)
			}
		}
		if asked.Load() != wantAsked {
			t.Errorf("asked for a client certificate: %v, want %v", asked.Load(), wantAsked)
		}
	}
	none := startSimulator(t, Options{})
	t.Run("no connector, mx", func(t *testing.T) { check(t, none, none.MXAddr, false, false) })
	t.Run("no connector, submission", func(t *testing.T) { check(t, none, none.SubmissionAddr, false, false) })
	t.Run("no connector, implicit TLS", func(t *testing.T) { check(t, none, none.ImplicitTLSAddr, true, false) })
	empty := startSimulator(t, Options{ConnectorCertificateNames: []string{}})
	t.Run("empty names, mx", func(t *testing.T) { check(t, empty, empty.MXAddr, false, false) })
	with := startSimulator(t, Options{ConnectorCertificateNames: []string{"relay.contoso.com"}})
	t.Run("connector, mx", func(t *testing.T) { check(t, with, with.MXAddr, false, true) })
	t.Run("connector, submission", func(t *testing.T) { check(t, with, with.SubmissionAddr, false, false) })
	t.Run("connector, implicit TLS", func(t *testing.T) { check(t, with, with.ImplicitTLSAddr, true, false) })
}

func TestConnectorCertificateNamesAreChecked(t *testing.T) {
	for _, name := range []string{"", "*", "*.", "*contoso.com", "relay.*.com", "*.*.contoso.com", ".contoso.com", "*..contoso.com"} {
		if sim, err := Start(Options{ConnectorCertificateNames: []string{name}}); err == nil {
			sim.Close()
			t.Errorf("Start accepted the connector certificate name %q", name)
		}
	}
}

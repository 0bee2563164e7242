package smtpclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// selfSignedClient is a client certificate for name, signed by itself.
func selfSignedClient(t *testing.T, name string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestClientCertificate: over TLS 1.2 and 1.3, a server that asks for a
// client certificate gets the configured one and the record says so; one
// that refuses the certificate sent, or its absence, is a
// client-certificate fault, at the handshake (1.2) or at the first reply
// after it (1.3, where the client's handshake ends before the server has
// judged the certificate), never a cipher or network problem.
func TestClientCertificate(t *testing.T) {
	p := newPKI(t)
	client := selfSignedClient(t, "relay.contoso.example")
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		refusedAt := result.StepTLS
		if version == tls.VersionTLS13 {
			refusedAt = result.StepEHLO
		}
		for _, tc := range []struct {
			name      string
			auth      tls.ClientAuthType
			cert      *tls.Certificate
			requested bool
			fault     string // "" when the conversation succeeds
		}{
			{"not asked", tls.NoClientCert, client, false, ""},
			{"asked, sent", tls.RequireAnyClientCert, client, true, ""},
			{"asked, none", tls.RequestClientCert, nil, true, ""},
			{"required, none", tls.RequireAnyClientCert, nil, true, "the server asked for a client certificate (none was sent) and ended the TLS session: tls: "},
			{"refused", tls.RequireAndVerifyClientCert, client, true, "the server asked for a client certificate (it was sent CN=relay.contoso.example) and ended the TLS session: tls: "},
		} {
			port := startServer(t, &backend{}, serverOptions{cert: &p.cert, tlsMax: version, clientAuth: tc.auth})
			plan := basePlan(port)
			plan.ExtraRoots = []*x509.Certificate{p.ca.Cert}
			plan.ClientCertificate = tc.cert
			conv := Converse(context.Background(), plan)
			name := tc.name + " " + tls.VersionName(version)
			info := conv.TLS
			if info == nil || info.ClientCertificateRequested != tc.requested {
				t.Fatalf("%s: TLS %+v\n%s", name, info, transcriptText(conv))
			}
			if sent := info.ClientCertificate != nil; sent != (tc.requested && tc.cert != nil) {
				t.Errorf("%s: sent %v", name, info.ClientCertificate)
			}
			stop := conv.Stop()
			switch {
			case tc.fault == "" && stop != nil && stop.Fault != nil:
				t.Errorf("%s: %s %+v\n%s", name, stop.Step, stop.Fault, transcriptText(conv))
			case tc.fault != "" && (stop == nil || stop.Fault == nil || stop.Step != refusedAt ||
				stop.Fault.Kind != result.FaultClientCertificate || !strings.Contains(stop.Fault.Message, tc.fault)):
				t.Errorf("%s: stop %+v, want a client-certificate fault at %s %q\n%s", name, stop, refusedAt, tc.fault, transcriptText(conv))
			}
		}
	}
}

// corruptingProxy forwards to port and, in the client's direction after
// STARTTLS, flips a byte of the k-th encrypted record, so that the server
// answers with a bad record MAC alert.
func corruptingProxy(t *testing.T, port, k int) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			c.Close()
			return
		}
		go func() { io.Copy(c, s); c.Close() }()
		defer s.Close()
		var plain []byte
		one := make([]byte, 1)
		for !strings.Contains(string(plain), "STARTTLS\r\n") {
			if _, err := c.Read(one); err != nil {
				return
			}
			plain = append(plain, one[0])
			s.Write(one)
		}
		for n := 0; ; {
			hdr := make([]byte, 5)
			if _, err := io.ReadFull(c, hdr); err != nil {
				return
			}
			body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
			if _, err := io.ReadFull(c, body); err != nil {
				return
			}
			if hdr[0] == 23 { // application data: every encrypted record under TLS 1.3
				if n++; n == k {
					body[len(body)-1] ^= 0xff
				}
			}
			s.Write(append(hdr, body...))
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// TestOtherAlertsAreNotAboutTheCertificate: a server that asks for a client
// certificate but does not require one, and later ends the session with an
// alert for another reason (a record that does not decrypt), is no
// client-certificate fault, whenever the alert comes.
func TestOtherAlertsAreNotAboutTheCertificate(t *testing.T) {
	p := newPKI(t)
	client := selfSignedClient(t, "relay.contoso.example")
	faults := 0
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, cert := range []*tls.Certificate{client, nil} {
			for k := 1; k <= 4; k++ {
				port := startServer(t, &backend{}, serverOptions{cert: &p.cert, tlsMax: version, clientAuth: tls.RequestClientCert})
				plan := basePlan(corruptingProxy(t, port, k))
				plan.ExtraRoots = []*x509.Certificate{p.ca.Cert}
				plan.ClientCertificate = cert
				plan.MailFrom = ptr("scanner@contoso.example")
				plan.RcptTo = []string{"helpdesk@contoso.example"}
				conv := Converse(context.Background(), plan)
				stop := conv.Stop()
				if stop == nil || stop.Fault == nil {
					continue
				}
				faults++
				if stop.Fault.Kind == result.FaultClientCertificate {
					t.Errorf("%s, certificate %v, record %d: %s %q", tls.VersionName(version), cert != nil, k, stop.Step, stop.Fault.Message)
				}
			}
		}
	}
	if faults == 0 {
		t.Error("no conversation failed: the proxy corrupted nothing")
	}
}

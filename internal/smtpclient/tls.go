package smtpclient

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// certificateError aborts a handshake whose chain did not verify when
// verification is required.
type certificateError struct{ reason string }

func (e *certificateError) Error() string { return e.reason }

// serverName is the SNI and verification name: Plan.ServerName, else the
// host (an IP literal is then checked against the certificate's IP SANs).
func (c *Client) serverName() string {
	if c.plan.ServerName != "" {
		return c.plan.ServerName
	}
	return strings.Trim(c.plan.Host, "[]")
}

// handshake runs the TLS handshake over the raw connection and records it as
// a StepTLS. The chain is verified by the client itself rather than by
// crypto/tls, so that a chain that does not verify can be recorded in full
// and, when Plan.VerifyCertificate is false, the conversation can go on.
func (c *Client) handshake() error {
	start := c.offset()
	name := c.serverName()
	c.transcript(result.TLSEvent, "handshake started, server name "+name)
	clientCert := &c.clientCert
	cfg := &tls.Config{
		ServerName:         name,
		MinVersion:         c.plan.TLSMinVersion,
		MaxVersion:         c.plan.TLSMaxVersion,
		InsecureSkipVerify: true, // verified in VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			info := describeTLS(cs, name)
			info.VerifyError = verifyChain(cs.PeerCertificates, c.plan.RootCAs, c.plan.ExtraRoots, name, time.Now())
			info.Verified = info.VerifyError == ""
			c.conv.TLS = info
			if !info.Verified && c.plan.VerifyCertificate {
				return &certificateError{info.VerifyError}
			}
			return nil
		},
		// Called only when the server sends a CertificateRequest, after
		// the server's chain was seen: whether it asked, and what was
		// sent, are recorded after the handshake.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			clientCert.requested = true
			cert := c.plan.ClientCertificate
			if cert == nil || len(cert.Certificate) == 0 {
				return &tls.Certificate{}, nil
			}
			if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
				d := describeCertificate(leaf)
				clientCert.sent = &d
			}
			return cert, nil
		},
	}
	if !c.arm() {
		return c.fail(result.StepTLS, "", start, nil, c.canceledFault(stepName(result.StepTLS, "")))
	}
	tc := tls.Client(quickAckConn{c.raw}, cfg)
	err := tc.Handshake()
	if info := c.conv.TLS; info != nil {
		info.ClientCertificateRequested, info.ClientCertificate = clientCert.requested, clientCert.sent
		// The chain was seen, whether or not it was accepted.
		verdict := "certificate verified"
		if !info.Verified {
			verdict = "certificate NOT verified: " + info.VerifyError
		}
		c.transcript(result.TLSEvent, fmt.Sprintf("TLS %s %s, server name %s, %s", info.Version, info.CipherSuite, name, verdict))
		for i, cert := range info.Chain {
			c.transcript(result.TLSEvent, fmt.Sprintf("certificate %d: %s, issuer %s, not after %s",
				i, cert.Subject, cert.Issuer, cert.NotAfter.Format(time.RFC3339)))
		}
	}
	switch {
	case clientCert.sent != nil:
		names := ""
		if len(clientCert.sent.DNSNames) > 0 {
			names = " (names " + strings.Join(clientCert.sent.DNSNames, ", ") + ")"
		}
		c.transcript(result.TLSEvent, fmt.Sprintf("the server asked for a client certificate; sent %s%s, issuer %s, not after %s",
			clientCert.sent.Subject, names, clientCert.sent.Issuer, clientCert.sent.NotAfter.Format(time.RFC3339)))
	case clientCert.requested:
		c.transcript(result.TLSEvent, "the server asked for a client certificate; none configured, none sent")
	case c.plan.ClientCertificate != nil && err == nil:
		c.transcript(result.TLSEvent, "the server did not ask for a client certificate; the configured one was not sent")
	}
	if err != nil {
		return c.fail(result.StepTLS, "", start, nil, c.handshakeFault(err))
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
	c.inTLS = true
	c.tlsUnconfirmed = c.clientCert.requested && tc.ConnectionState().Version == tls.VersionTLS13
	c.record(result.StepTLS, "", start, nil, nil)
	return nil
}

// certificateAlerts are the TLS alerts (RFC 8446 section 6.2, as
// crypto/tls writes them) with which a server refuses a client
// certificate, or the lack of one, while it finishes the handshake.
var certificateAlerts = []string{
	"tls: bad certificate", "tls: unsupported certificate", "tls: revoked certificate", "tls: expired certificate",
	"tls: unknown certificate", "tls: unknown certificate authority", "tls: access denied", "tls: certificate required",
	"tls: handshake failure", "tls: error decrypting message",
}

// clientCertRefusal is the fault of a certificate alert (certificateAlerts)
// from a server that asked for a client certificate, while the server
// finishes the handshake: in the handshake itself, or, under TLS 1.3,
// where the client's handshake ends first, before the first reply after
// it (Client.tlsUnconfirmed). Any other error is nil: a later alert, or
// another one (bad record MAC), is not about the certificate.
func (c *Client) clientCertRefusal(err error) *result.Fault {
	var op *net.OpError
	if !c.clientCert.requested || !errors.As(err, &op) || op.Op != "remote error" || !slices.Contains(certificateAlerts, op.Err.Error()) {
		return nil
	}
	sent := "none was sent"
	if s := c.clientCert.sent; s != nil {
		sent = "it was sent " + s.Subject
	}
	return &result.Fault{Kind: result.FaultClientCertificate,
		Message: fmt.Sprintf("the server asked for a client certificate (%s) and ended the TLS session: %v", sent, op.Err)}
}

func (c *Client) handshakeFault(err error) *result.Fault {
	var ce *certificateError
	var rh tls.RecordHeaderError
	if f := c.clientCertRefusal(err); f != nil {
		return f
	}
	switch {
	case errors.As(err, &ce):
		return &result.Fault{Kind: result.FaultCertificate, Message: ce.reason}
	case errors.As(err, &rh) && c.plan.TLS == StartTLS && plaintext(rh.RecordHeader[:]):
		// Text where the server's TLS handshake should be: bytes that
		// arrived after the 220 to STARTTLS, in a later segment than the
		// reply (the same segment is caught by StartTLS). RFC 3207 section
		// 4 (CVE-2011-0411 class).
		return &result.Fault{
			Kind:    result.FaultInjection,
			Message: "plaintext arrived after the reply to STARTTLS, where the TLS handshake should be",
			Bytes:   strconv.Quote(c.red.String(string(rh.RecordHeader[:]))),
		}
	case c.isCanceled():
		return c.canceledFault(stepName(result.StepTLS, ""))
	case isTimeout(err):
		return &result.Fault{Kind: result.FaultTimeout, Message: fmt.Sprintf("TLS handshake not finished within %s", c.timeout)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// Often a server that found no TLS version or cipher suite in
		// common and hung up without an alert.
		return &result.Fault{Kind: result.FaultTLSHandshake, Message: "TLS handshake failed: the server closed the connection"}
	case isReset(err):
		return &result.Fault{Kind: result.FaultTLSHandshake, Message: "TLS handshake failed: the server reset the connection"}
	}
	return &result.Fault{Kind: result.FaultTLSHandshake, Message: "TLS handshake failed: " + err.Error()}
}

// describeTLS describes the negotiated session and the presented chain.
func describeTLS(cs tls.ConnectionState, name string) *result.TLSInfo {
	info := &result.TLSInfo{
		Version:     esmtp.TLSVersion(cs.Version),
		CipherSuite: tls.CipherSuiteName(cs.CipherSuite),
		ServerName:  name,
	}
	for _, cert := range cs.PeerCertificates {
		info.Chain = append(info.Chain, describeCertificate(cert))
	}
	return info
}

func describeCertificate(cert *x509.Certificate) result.Certificate {
	sum := sha256.Sum256(cert.Raw)
	out := result.Certificate{
		Subject:      cert.Subject.String(),
		Issuer:       cert.Issuer.String(),
		DNSNames:     cert.DNSNames,
		SerialNumber: fmt.Sprintf("%X", cert.SerialNumber),
		NotBefore:    cert.NotBefore.UTC(),
		NotAfter:     cert.NotAfter.UTC(),
		SHA256:       hex.EncodeToString(sum[:]),
	}
	for _, ip := range cert.IPAddresses {
		out.IPAddresses = append(out.IPAddresses, ip.String())
	}
	return out
}

// verifyChain checks the presented chain as a browser would: it must lead
// to one of roots (nil: the system roots) or of extra, and the leaf must be
// valid for name. It returns "" or why verification failed, in plain words.
//
// A chain is first verified against extra alone: when it leads to one of
// them (a lab CA from a suite's ca_file), the system roots are never
// loaded, which saves a process tens of milliseconds.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, extra []*x509.Certificate, name string, now time.Time) string {
	if len(certs) == 0 {
		return "the server presented no certificate"
	}
	opts := x509.VerifyOptions{
		Roots:         roots,
		DNSName:       name,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
	}
	for _, cert := range certs[1:] {
		opts.Intermediates.AddCert(cert)
	}
	if len(extra) > 0 {
		only := x509.NewCertPool()
		for _, cert := range extra {
			only.AddCert(cert)
		}
		quick := opts
		quick.Roots = only
		if _, err := certs[0].Verify(quick); err == nil {
			return ""
		}
		opts.Roots = withExtra(roots, extra)
	}
	_, err := certs[0].Verify(opts)
	if err == nil {
		return ""
	}
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		cert := invalid.Cert
		if now.Before(cert.NotBefore) {
			return fmt.Sprintf("certificate %s is not yet valid (not before %s)", cert.Subject, cert.NotBefore.UTC().Format(time.RFC3339))
		}
		return fmt.Sprintf("certificate %s has expired (not after %s)", cert.Subject, cert.NotAfter.UTC().Format(time.RFC3339))
	case errors.As(err, &unknown):
		issuer := certs[len(certs)-1].Issuer.String()
		return fmt.Sprintf("certificate signed by unknown authority (issuer %s)", issuer)
	case errors.As(err, &host):
		return strings.TrimPrefix(host.Error(), "x509: ")
	}
	return strings.TrimPrefix(err.Error(), "x509: ")
}

// withExtra returns a copy of roots (nil: the system roots) with extra
// added.
func withExtra(roots *x509.CertPool, extra []*x509.Certificate) *x509.CertPool {
	var pool *x509.CertPool
	if roots != nil {
		pool = roots.Clone()
	} else if system, err := x509.SystemCertPool(); err == nil && system != nil {
		pool = system // a copy already
	} else {
		pool = x509.NewCertPool()
	}
	for _, cert := range extra {
		pool.AddCert(cert)
	}
	return pool
}

// plaintext reports whether b looks like SMTP text rather than a TLS record:
// printable ASCII, spaces and line breaks only. A TLS record starts with a
// content type byte (20 to 24), never printable.
func plaintext(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' && c != '\t' {
			return false
		}
	}
	return len(b) > 0
}

package smtpclient

import (
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/redact"
)

// TLSMode is how a conversation uses TLS.
type TLSMode string

// The TLS modes.
const (
	StartTLS TLSMode = "starttls"
	Implicit TLSMode = "implicit"
	NoTLS    TLSMode = "none"
)

// Plan says which conversation to hold. It knows nothing about suites.
type Plan struct {
	Host string
	Port int
	TLS  TLSMode
	// Helo is the EHLO/HELO name; "" means "localhost".
	Helo string
	// Timeout bounds each step (connect, each reply) as a total deadline,
	// not an idle timeout. Zero means 30s.
	Timeout time.Duration

	TLSMinVersion uint16 // 0 = crypto/tls default
	TLSMaxVersion uint16
	ServerName    string // SNI and verification name; "" = Host
	// VerifyCertificate makes a chain that does not verify end the
	// conversation; when false the problem is recorded and it goes on.
	VerifyCertificate bool
	// RootCAs are the trust anchors; nil = the system roots.
	RootCAs *x509.CertPool
	// ExtraRoots are trust anchors in addition to RootCAs, such as the
	// certificates of a suite's ca_file. A chain that leads to one of them
	// is accepted without loading the system roots (about 30 ms, once per
	// process), so prefer this to a RootCAs built from the system pool.
	ExtraRoots []*x509.Certificate
	// ClientCertificate is presented when the server asks for a client
	// certificate (a connector that identifies the sender by its
	// certificate); nil presents none.
	ClientCertificate *tls.Certificate

	SourceAddress string // local IP to connect from, "" = any
	IPVersion     int    // 0, 4 or 6

	Auth *Auth
	// MailFrom is nil when no MAIL FROM is sent; "" sends MAIL FROM:<>.
	MailFrom *string
	RcptTo   []string
	// Message is nil unless DATA must be sent.
	Message *Message

	// Redactor masks the secrets the suite declared in everything the
	// client records; the client adds the credentials of Auth. Nil masks
	// only those credentials.
	Redactor *redact.Redactor

	// Now returns the current time; nil = time.Now. Injected by tests.
	Now func() time.Time
}

// Auth is what to authenticate with.
type Auth struct {
	Username  string
	Password  string
	Token     string // XOAUTH2 bearer token
	Mechanism string // PLAIN, LOGIN, CRAM-MD5, XOAUTH2; "" = best offered
	// Force sends Mechanism even when the server does not offer it (the
	// suite's force_mechanism = true). Without it, nothing is sent for a
	// mechanism the server did not offer.
	Force bool
}

// Message is the message sent after DATA.
type Message struct {
	From    string
	To      []string
	Subject string
	Body    string
	Headers map[string]string
	// Date and MessageID are filled by the client when empty.
	Date      time.Time
	MessageID string
}

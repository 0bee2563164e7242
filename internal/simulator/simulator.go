// Package simulator runs an Exchange-Online-like SMTP service on loopback:
// a client-submission endpoint (like smtp.office365.com:587), a tenant MX
// endpoint (like contoso-com.mail.protection.outlook.com:25) and an
// implicit-TLS endpoint (like a port-465 service). It answers with the
// replies Microsoft 365 gives (reference/m365-facts.md sections 3 and 6),
// needs no network beyond 127.0.0.1, and delivers nothing: every message
// that reaches DATA is kept in memory for tests to inspect.
//
// The connection handling (TLS, input modes, SASL, limits, reply
// rewriting) is internal/smtpd's; each endpoint is a Backend on it whose
// Handler (session.go) applies Exchange Online's policy.
package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/smtpdiag/smtpdiag/internal/pki"
	"github.com/smtpdiag/smtpdiag/internal/smtpd"
)

// Default host names, shaped like the names Exchange Online front-ends
// announce in their banners and EHLO greetings.
const (
	DefaultSubmissionHostname = "SN1PR80CA0001.outlook.office365.com"
	DefaultMXHostname         = "SN1NAM02FT0049.mail.protection.outlook.com"
	DefaultAcceptedDomain     = "contoso.com"
)

// User is a mailbox that may authenticate on the submission and
// implicit-TLS endpoints.
type User struct {
	Password string // for AUTH LOGIN and PLAIN; "" refuses password logins
	// Token is a static bearer token for XOAUTH2. "" refuses static
	// tokens; signed tokens are accepted when Options.OAuth allows them.
	Token string
	// Disabled makes a login with the right credentials fail the way a
	// mailbox or tenant with SMTP AUTH switched off does (535 5.7.139).
	Disabled bool
}

// DefaultUsers are the mailboxes used when Options.Users is nil.
func DefaultUsers() map[string]User {
	return map[string]User{
		"scanner@contoso.com":  {Password: "demo-password", Token: "demo-token"},
		"disabled@contoso.com": {Password: "demo-password", Token: "demo-token", Disabled: true},
	}
}

// Options configures a Simulator. The zero value is ready to use.
type Options struct {
	// Hostname is the name every endpoint announces. "" gives the
	// submission and implicit-TLS endpoints DefaultSubmissionHostname and
	// the MX endpoint DefaultMXHostname.
	Hostname string
	// AcceptedDomain is the tenant's domain: the MX endpoint accepts
	// recipients only there. Default: DefaultAcceptedDomain.
	AcceptedDomain string
	// Users maps user names (case-insensitive) to mailboxes. nil means
	// DefaultUsers().
	Users map[string]User
	// Log receives a protocol log of every connection (after the
	// Microsoft rewrite, with SASL exchanges masked). nil: no log.
	Log io.Writer
	// OAuth makes XOAUTH2 accept access tokens signed by an identity
	// provider (such as package idptest's), checked as Exchange Online
	// checks them. nil: XOAUTH2 accepts only the static User.Token values.
	OAuth *OAuthOptions
	// ConnectorCertificateNames are the TlsSenderCertificateName values
	// of the tenant's certificate-based inbound connectors: a domain
	// ("relay.contoso.com") or a wildcard ("*.contoso.com": the domain
	// and all its subdomains, as New-InboundConnector documents it),
	// matched without regard to case. When there are any, the MX endpoint asks TLS
	// clients for a certificate (it never requires one), and a client
	// whose certificate names one of them (its DNS names, or without
	// any its subject's common name) may relay through the MX endpoint
	// to any domain. nil or empty: no such connector, and no endpoint
	// asks for a certificate.
	ConnectorCertificateNames []string
	// ConnectorRoots, when set, are the certificate authorities the
	// connectors trust: a client certificate counts only if its chain
	// verifies against them for client authentication. nil: a
	// certificate with a matching name counts, whoever issued it.
	ConnectorRoots *x509.CertPool
}

// Envelope is one message that reached the end of DATA (or the last BDAT
// chunk). The simulator delivers nothing; this is all that is kept.
type Envelope struct {
	Endpoint string // "submission", "mx" or "implicit-tls"
	Username string // the authenticated user, "" on the MX endpoint
	From     string
	To       []string
	Data     []byte
}

// Size is the message length in octets.
func (e Envelope) Size() int { return len(e.Data) }

// Simulator is a running set of endpoints. Its exported fields are set by
// Start and must not be changed.
type Simulator struct {
	// Addresses ("127.0.0.1:port") of the three endpoints.
	SubmissionAddr  string
	MXAddr          string
	ImplicitTLSAddr string
	// Host names the endpoints announce (and their certificate names).
	SubmissionHostname string
	MXHostname         string
	// CAPEM is the PEM-encoded certificate of the throwaway CA that issued
	// the endpoints' certificate; suites trust it through ca_file.
	CAPEM []byte

	acceptedDomain string
	users          map[string]User
	tokens         *tokenChecker // nil without Options.OAuth
	connector      *connector    // nil without Options.ConnectorCertificateNames
	server         *smtpd.Server

	logMu sync.Mutex
	log   io.Writer

	mu           sync.Mutex
	messageSeq   int
	received     []Envelope
	dataCommands int
}

// Start opens the three endpoints on 127.0.0.1 with ports the system picks
// and serves them until Close.
func Start(opts Options) (*Simulator, error) {
	s := &Simulator{
		SubmissionHostname: DefaultSubmissionHostname,
		MXHostname:         DefaultMXHostname,
		acceptedDomain:     strings.ToLower(opts.AcceptedDomain),
		users:              make(map[string]User),
		log:                opts.Log,
	}
	if opts.Hostname != "" {
		s.SubmissionHostname, s.MXHostname = opts.Hostname, opts.Hostname
	}
	if s.acceptedDomain == "" {
		s.acceptedDomain = DefaultAcceptedDomain
	}
	users := opts.Users
	if users == nil {
		users = DefaultUsers()
	}
	for name, u := range users {
		s.users[strings.ToLower(name)] = u
	}
	if opts.OAuth != nil {
		c, err := newTokenChecker(*opts.OAuth)
		if err != nil {
			return nil, err
		}
		s.tokens = c
	}
	conn, err := newConnector(opts.ConnectorCertificateNames, opts.ConnectorRoots)
	if err != nil {
		return nil, err
	}
	s.connector = conn

	ca, err := pki.NewCA("smtpdiag simulator CA")
	if err != nil {
		return nil, err
	}
	s.CAPEM = ca.PEM
	// The first name becomes the subject's common name, as on the real
	// certificates, which name the service rather than localhost.
	leaf, err := ca.Issue(pki.LeafOptions{Names: []string{s.SubmissionHostname, s.MXHostname, "localhost", "127.0.0.1"}})
	if err != nil {
		return nil, err
	}
	// Exchange Online refuses TLS 1.0 and 1.1 on its default endpoints
	// (m365-facts.md section 2), so the handshake fails below TLS 1.2.
	errorLog := io.Discard
	if s.log != nil {
		errorLog = s.log
	}
	s.server = smtpd.NewServer(smtpd.Config{
		TLS:      &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12},
		ErrorLog: log.New(errorLog, "simulator: ", 0),
	})

	endpoints := []*endpoint{
		{role: roleSubmission, hostname: s.SubmissionHostname, addr: &s.SubmissionAddr},
		{role: roleMX, hostname: s.MXHostname, addr: &s.MXAddr},
		{role: roleImplicitTLS, hostname: s.SubmissionHostname, addr: &s.ImplicitTLSAddr},
	}
	var listeners []net.Listener
	for _, ep := range endpoints {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, open := range listeners {
				open.Close()
			}
			return nil, fmt.Errorf("simulator: listen for %s: %w", ep.role, err)
		}
		*ep.addr = l.Addr().String()
		listeners = append(listeners, l)
	}
	for i, ep := range endpoints {
		s.server.Serve(listeners[i], s.smtpdEndpoint(ep))
	}
	return s, nil
}

// Close stops every endpoint, ends every open connection and waits until
// all of the simulator's goroutines have returned.
func (s *Simulator) Close() error {
	if err := s.server.Close(); err != nil {
		return fmt.Errorf("simulator: close: %w", err)
	}
	return nil
}

// Received returns a copy of every message that reached the end of DATA,
// in arrival order.
func (s *Simulator) Received() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Envelope, len(s.received))
	for i, e := range s.received {
		e.To = append([]string(nil), e.To...)
		e.Data = append([]byte(nil), e.Data...)
		out[i] = e
	}
	return out
}

// DataCommands counts the DATA and BDAT commands clients sent, accepted or
// not: zero proves that no conversation tried to transfer a message.
func (s *Simulator) DataCommands() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataCommands
}

// WriteCAFile writes CAPEM to a new file in dir ("" means os.TempDir) and
// returns its path, for a suite's ca_file. The caller removes it.
func (s *Simulator) WriteCAFile(dir string) (string, error) {
	f, err := os.CreateTemp(dir, "smtpdiag-simulator-ca-*.pem")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(s.CAPEM); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func (s *Simulator) countDataCommand() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataCommands++
}

// record keeps a received message.
func (s *Simulator) record(e Envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, e)
}

// nextMessageID numbers the queued replies.
func (s *Simulator) nextMessageID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messageSeq++
	return s.messageSeq
}

func (s *Simulator) logf(format string, args ...any) {
	if s.log == nil {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.log, format+"\n", args...)
}

// role is what an endpoint imitates.
type role int

const (
	roleSubmission  role = iota // smtp.office365.com:587: STARTTLS, then AUTH LOGIN XOAUTH2
	roleMX                      // <tenant>.mail.protection.outlook.com:25: no AUTH at all
	roleImplicitTLS             // a port-465 service: TLS from the first byte, AUTH PLAIN LOGIN
)

func (r role) String() string {
	switch r {
	case roleSubmission:
		return "submission"
	case roleMX:
		return "mx"
	default:
		return "implicit-tls"
	}
}

// endpoint is one listening service.
type endpoint struct {
	role     role
	hostname string
	addr     *string // where Start publishes the listening address
}

// smtpdEndpoint is what the endpoint offers. Exchange Online offers AUTH
// only inside TLS: exactly LOGIN and XOAUTH2 on port 587 (m365-facts.md
// section 6), and nothing on the MX endpoint, which requires neither TLS
// nor AUTH.
func (s *Simulator) smtpdEndpoint(e *endpoint) *smtpd.Endpoint {
	ep := &smtpd.Endpoint{
		Hostname:    e.hostname,
		ImplicitTLS: e.role == roleImplicitTLS,
		Backend:     smtpd.BackendFunc(func(c *smtpd.Conn) smtpd.Handler { return s.connect(c, e) }),
	}
	switch e.role {
	case roleSubmission:
		ep.Mechanisms = []string{"LOGIN", "XOAUTH2"}
	case roleImplicitTLS:
		ep.Mechanisms = []string{"PLAIN", "LOGIN"}
	}
	if e.role != roleMX {
		ep.RequireTLS, ep.RequireAuth = true, true
	}
	if e.role == roleMX && s.connector != nil {
		// A certificate-based connector: the client's certificate is
		// asked for, not required, and judged at RCPT.
		ep.ClientAuth = tls.RequestClientCert
	}
	return ep
}

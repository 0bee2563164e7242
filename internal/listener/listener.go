// Package listener is the server side of a device acceptance test: it
// listens where a copier or scanner is pointed, answers the way
// smtp.office365.com does (STARTTLS, then AUTH, then mail; Microsoft's
// rejections when the device skips a step), and records each device
// session: the TLS ClientHello offer (versions, cipher suites, SNI), the
// negotiated TLS session, AUTH mechanism and user (never the secret), the
// envelope, and each message's header fields and size.
//
// To record what old devices offer instead of failing on it, the TLS side
// accepts TLS 1.0 and 1.1 and the legacy cipher suites crypto/tls still
// implements, with an ECDSA and an RSA certificate; whether the session
// then goes on is a policy (Config.AllowLegacyTLS), as on Exchange Online.
//
// The connection handling (TLS, input modes, SASL, limits, reply
// rewriting) is internal/smtpd's; the listener is a Backend on it whose
// Handler (device.go) writes the record.
package listener

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/pki"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpd"
)

// DefaultMechanisms are the SASL mechanisms smtp.office365.com offers
// after STARTTLS (m365-facts.md section 6): no PLAIN, no CRAM-MD5.
var DefaultMechanisms = []string{"LOGIN", "XOAUTH2"}

// Mechanisms are the SASL mechanisms the listener can record.
var Mechanisms = smtpd.Mechanisms

// DefaultIdleTimeout ends the session of a device that stalls.
const DefaultIdleTimeout = 2 * time.Minute

// DefaultMaxSessions and DefaultRecordBudget bound what one listener
// holds, whatever the clients send.
const (
	// DefaultMaxSessions is how many sessions the listener serves at once;
	// a client beyond it gets 421 4.3.2 in place of the greeting and is
	// recorded as refused. A copier opens one session per scan.
	DefaultMaxSessions = 8
	// DefaultRecordBudget bounds the text one session's record keeps:
	// transcript lines, rejections, envelopes and header fields, each
	// counted with an overhead (recordOverhead). A scan's session takes a
	// few KiB; past the budget the listener ends the session with 421
	// 4.7.0 (RFC 5321 section 3.8) and the record says so.
	DefaultRecordBudget = 256 << 10
)

// Config configures a Listener.
type Config struct {
	// Addr is where to listen ("0.0.0.0:2525", "127.0.0.1:0").
	Addr string
	// Hostname is the name announced in the greeting and, with automatic
	// certificates, put in them. Default: smtp.office365.com.
	Hostname string
	// Certificates are the server certificates; nil makes a self-signed
	// ECDSA and RSA pair for Hostname (see Listener.Certificates).
	Certificates []tls.Certificate
	// RequireTLS behaves like smtp.office365.com: AUTH is offered only
	// after STARTTLS, and MAIL without TLS gets 451 5.7.3.
	RequireTLS bool
	// AcceptAuth offers AUTH, accepts any credentials (recording only the
	// mechanism and the user name) and requires AUTH before MAIL (530
	// 5.7.57), like smtp.office365.com. Without it no AUTH is offered and
	// MAIL needs none, like a tenant's MX endpoint.
	AcceptAuth bool
	// Mechanisms are the SASL mechanisms offered; nil means
	// DefaultMechanisms. Each must be one of Mechanisms.
	Mechanisms []string
	// AllowLegacyTLS lets a session go on after a TLS 1.0 or 1.1
	// handshake, as smtp-legacy.office365.com does where a tenant allows
	// it. Without it the device's next command gets 421 4.7.66, as on
	// the default endpoints.
	AllowLegacyTLS bool
	// KeepDir, when not "", is a directory each message is written to as
	// it arrives, never held in memory: RunID-session-N-message-M.eml,
	// created anew (never overwriting, never following a symbolic link);
	// Message.File names it. Listen refuses a directory that CheckKeepDir
	// refuses.
	KeepDir string
	// RunID names this run's kept messages; "" makes one from the time
	// and a random number (see Listener.RunID).
	RunID string
	// MaxSessions bounds the sessions served at once (DefaultMaxSessions
	// when 0); one more gets 421 4.3.2 and is recorded as refused.
	MaxSessions int
	// RecordBudget bounds each session's record (DefaultRecordBudget when
	// 0).
	RecordBudget int
	// OneSession tests one device session: the first session that sends
	// EHLO or HELO (or begins TLS at once) takes the listener, and any
	// other session's EHLO or HELO, or a later connection, gets 421 4.3.2
	// and is recorded as refused (smtpdiag listen --once).
	OneSession bool
	// IdleTimeout ends a session whose device sends nothing for that long;
	// 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// OnConnect, when not nil, is called as each device connects, with
	// the session's number and the device's address.
	OnConnect func(number int, remote string)
	// OnSession, when not nil, is called with each session's record once
	// its connection has ended. It may be called from several goroutines
	// at once.
	OnSession func(*result.DeviceSession)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// CertificateInfo describes a server certificate for the person running
// the test, who can compare its fingerprint with what the device shows.
type CertificateInfo = pki.CertificateInfo

// Listener is a listening device endpoint.
type Listener struct {
	cfg    Config
	net    net.Listener
	certs  []CertificateInfo
	server *smtpd.Server
	ep     smtpd.Endpoint

	mu     sync.Mutex
	tested *device // the session that took the listener (OneSession)
}

// BindError is a failure to listen, with a hint for the person running
// smtpdiag.
type BindError struct {
	Addr string
	Err  error
	// Hint says what to do, "" when there is nothing specific.
	Hint string
}

func (e *BindError) Error() string {
	msg := fmt.Sprintf("cannot listen on %s: %v", e.Addr, e.Err)
	if e.Hint != "" {
		msg += ". " + e.Hint
	}
	return msg
}

func (e *BindError) Unwrap() error { return e.Err }

// bindError explains why listening on addr failed.
func bindError(addr string, err error) *BindError {
	be := &BindError{Addr: addr, Err: err}
	var port int
	if _, p, perr := net.SplitHostPort(addr); perr == nil {
		port, _ = strconv.Atoi(p)
	}
	switch {
	case errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EACCES) || errors.Is(err, errAccess):
		if port > 0 && port < 1024 {
			be.Hint = fmt.Sprintf("Ports below 1024 need privileges. Listen on a port such as 2525 instead "+
				"(--listen 0.0.0.0:2525, or listen in the device block) and point the device at that port, "+
				"or allow smtpdiag to bind port %d: sudo setcap cap_net_bind_service=+ep \"$(command -v smtpdiag)\"", port)
		} else {
			be.Hint = "The system does not allow this program to listen there."
		}
	case errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, errAddrInUse):
		be.Hint = "Another program (a mail server?) already listens on that port; stop it or choose another port."
	case errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, errAddrNotAvail):
		be.Hint = "That IP address is not one of this machine's; use 0.0.0.0 to listen on all of them."
	}
	return be
}

// Listen starts listening and serving devices until Close.
func Listen(cfg Config) (*Listener, error) {
	if cfg.Hostname == "" {
		cfg.Hostname = "smtp.office365.com"
	}
	offered := cfg.Mechanisms
	if offered == nil {
		offered = DefaultMechanisms
	}
	cfg.Mechanisms = make([]string, 0, len(offered))
	for _, m := range offered {
		upper := strings.ToUpper(m)
		if !slices.Contains(Mechanisms, upper) {
			return nil, fmt.Errorf("listener: unsupported mechanism %q", m)
		}
		cfg.Mechanisms = append(cfg.Mechanisms, upper)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.RecordBudget <= 0 {
		cfg.RecordBudget = DefaultRecordBudget
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.KeepDir != "" {
		if err := CheckKeepDir(cfg.KeepDir); err != nil {
			return nil, err
		}
		if cfg.RunID == "" {
			cfg.RunID = newRunID(cfg.Now())
		}
	}
	certs := cfg.Certificates
	if certs == nil {
		var err error
		if certs, err = autoCertificates(cfg.Hostname, cfg.Now()); err != nil {
			return nil, fmt.Errorf("listener: certificate: %w", err)
		}
	}
	nl, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, bindError(cfg.Addr, err)
	}
	l := &Listener{cfg: cfg, net: nl, certs: pki.Describe(certs)}
	l.server = smtpd.NewServer(smtpd.Config{
		// TLS 1.0 and the legacy suites are enabled on purpose: the
		// ClientHello of an old device is only worth something if the
		// handshake gets far enough to record it, and the verdict comes
		// from the expectations, not from a handshake error. crypto/tls
		// refuses TLS 1.0 and 1.1 unless MinVersion says otherwise, and
		// enables RSA key exchange and 3DES only when listed.
		TLS: &tls.Config{
			Certificates: certs,
			MinVersion:   tls.VersionTLS10,
			CipherSuites: allSuites(),
		},
		IdleTimeout:    cfg.IdleTimeout,
		Now:            cfg.Now,
		MaxConnections: cfg.MaxSessions,
	})
	l.ep = smtpd.Endpoint{
		Hostname:          cfg.Hostname,
		DetectImplicitTLS: true,
		RequireTLS:        cfg.RequireTLS,
		RequireAuth:       cfg.AcceptAuth,
		Backend:           smtpd.BackendFunc(l.connect),
	}
	if cfg.AcceptAuth {
		l.ep.Mechanisms = cfg.Mechanisms
	}
	l.server.Serve(nl, &l.ep)
	return l, nil
}

// autoCertificates makes two self-signed certificates for hostname: an
// ECDSA one, which modern devices pick, and an RSA one, without which a
// device that offers only RSA key exchange or ECDHE_RSA suites (common in
// older firmware) could not complete a handshake at all. crypto/tls
// chooses between them from the ClientHello.
func autoCertificates(hostname string, now time.Time) ([]tls.Certificate, error) {
	var out []tls.Certificate
	for _, rsa := range []bool{false, true} {
		cert, err := pki.SelfSigned(pki.LeafOptions{
			Names:        []string{hostname, "localhost"},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.AddDate(0, 0, 30),
			Organization: "smtpdiag device test (self-signed)",
			RSA:          rsa,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, cert)
	}
	return out, nil
}

// allSuites lists every TLS 1.0-1.2 cipher suite crypto/tls implements,
// secure and insecure.
func allSuites() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids = append(ids, s.ID)
	}
	return ids
}

// Addr is the address the listener listens on, with the port the system
// chose for ":0".
func (l *Listener) Addr() string { return l.net.Addr().String() }

// Certificates describes the server certificates, so that the person
// running the test can compare the fingerprint with what the device shows.
func (l *Listener) Certificates() []CertificateInfo { return l.certs }

// RunID is the name of this run's kept messages ("" without KeepDir).
func (l *Listener) RunID() string { return l.cfg.RunID }

// StopAccepting stops listening: no device can connect any more, and the
// sessions already open go on until they end or Close ends them.
func (l *Listener) StopAccepting() { l.server.StopAccepting() }

// Close stops listening, ends open sessions (their records say "the
// listener stopped") and waits until every session was handed to
// OnSession.
func (l *Listener) Close() error { return l.server.Close() }

// take gives d the listener under OneSession, unless another session
// has it; it reports whether d has it. Without OneSession every session
// has it.
func (l *Listener) take(d *device) bool {
	if !l.cfg.OneSession {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tested == nil {
		l.tested = d
	}
	return l.tested == d
}

// taken reports whether a session has taken the listener (OneSession).
func (l *Listener) taken() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tested != nil
}

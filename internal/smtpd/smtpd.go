// Package smtpd is the connection layer of smtpdiag's SMTP servers: it
// sits between each TCP connection and github.com/emersion/go-smtp, owns
// TLS, input modes, limits, SASL exchanges and the masking of credentials,
// rewrites go-smtp's replies into Exchange Online's (internal/msreply),
// and leaves policy and recording to a Backend.
//
// go-smtp hard-codes the texts of its replies and runs STARTTLS on its own
// tls.Conn, below which nothing can see the plaintext. So the front
// answers STARTTLS (RFC 3207) and runs the handshake itself, hands go-smtp
// the decrypted stream, and passes every reply go-smtp writes through a
// msreply.Rewriter, before and after STARTTLS alike.
//
// To tell commands from message text and SASL responses the front follows
// go-smtp's input state from the replies going out: after a 354 the client
// sends message text up to <CRLF>.<CRLF> (RFC 5321 section 4.1.1.4), after
// a 334 one SASL response (RFC 4954 section 4), after "BDAT n" n octets
// (RFC 3030 section 2). It hands go-smtp at most one line per Read, so
// that go-smtp's buffered reader never holds input not yet classified.
//
// The servers built on it are internal/listener (the device endpoint) and
// internal/simulator (the Exchange-Online-like service); each is a
// Backend, in the spirit of go-smtp's Server/Backend split.
package smtpd

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Limits of every server connection.
const (
	// MaxMessageBytes is the SIZE advertised (RFC 1870), Exchange Online's
	// 150 MB.
	MaxMessageBytes = 157286400
	// MaxLineLength bounds command and text lines. RFC 4954 section 4
	// allows AUTH lines of up to 12288 octets, which XOAUTH2 bearer
	// tokens need; the RFC 5321 section 4.5.3.1.4 limit of 512 would
	// reject real tokens.
	MaxLineLength = 16384
	// DefaultIdleTimeout ends a session whose client sends nothing for
	// that long: the server timeout of RFC 5321 section 4.5.3.2.7.
	DefaultIdleTimeout = 5 * time.Minute

	// readBufferSize holds the longest line go-smtp accepts.
	readBufferSize = 2 * MaxLineLength
	// handshakeTimeout bounds a TLS handshake.
	handshakeTimeout = 30 * time.Second
	// helloTimeout bounds the reading of a ClientHello that arrived where
	// the greeting was expected (Endpoint.DetectImplicitTLS).
	helloTimeout = 5 * time.Second
	// writeTimeout bounds the writing of a reply.
	writeTimeout = time.Minute
	// chunkReadSize is the most of a BDAT chunk handed on per Read.
	chunkReadSize = 32 << 10
)

// ErrServerClosed is the end of input of a connection that Server.Close
// ended (EventInputEnded).
var ErrServerClosed = errors.New("smtpd: server closed")

// ErrSessionEnded is the end of input of a connection the server ended
// itself with a 421 reply (RFC 5321 section 3.8): a Handler's refusal, or
// a Refusal in place of the greeting (EventInputEnded).
var ErrSessionEnded = errors.New("smtpd: the server ended the session with 421")

// TooManyConnections is Exchange Online's greeting to a client beyond its
// limit of concurrent connections (Config.MaxConnections), sent in place
// of the 220 greeting before the connection is closed (RFC 5321 section
// 3.1 allows 421 there).
const TooManyConnections = "421 4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing transmission channel"

// Config configures a Server.
type Config struct {
	// TLS is the TLS server configuration for STARTTLS and implicit TLS.
	TLS *tls.Config
	// IdleTimeout ends a session whose client sends nothing for that long;
	// 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// ErrorLog receives go-smtp's errors; nil discards them.
	ErrorLog *log.Logger
	// Now is the clock of the greeting; nil means time.Now.
	Now func() time.Time
	// MaxConnections bounds the connections served at once, over all
	// endpoints; a client beyond it gets TooManyConnections in place of
	// the greeting, its Handler sees a Conn whose Refusal is set, and the
	// connection is closed. 0 means no limit.
	MaxConnections int
}

// Endpoint is one listening address of a Server: what it offers and the
// Backend that decides the rest.
type Endpoint struct {
	// Hostname is the server's name in the greeting, the EHLO reply,
	// queue IDs and its negative replies.
	Hostname string
	// ImplicitTLS starts TLS with the connection, before the greeting
	// (RFC 8314 section 3.3).
	ImplicitTLS bool
	// DetectImplicitTLS, where TLS starts with STARTTLS, recognises a
	// client that begins a TLS handshake instead of reading the greeting:
	// the front reports EventImplicitTLS and the ClientHello, then ends
	// the session, as no handshake can succeed after the plaintext
	// greeting.
	DetectImplicitTLS bool
	// Mechanisms are the SASL mechanisms offered (each one of
	// Mechanisms); nil offers no AUTH.
	Mechanisms []string
	// RequireTLS offers AUTH only once TLS is up and refuses MAIL before
	// it (msreply.StartTLSRequired).
	RequireTLS bool
	// RequireAuth refuses MAIL before a successful AUTH
	// (msreply.NotAuthenticated).
	RequireAuth bool
	// ClientAuth is the endpoint's policy for TLS client certificates;
	// the zero value, tls.NoClientCert, keeps Config.TLS's own. An
	// endpoint that judges a client's certificate itself (a
	// certificate-based connector) sets tls.RequestClientCert, which
	// asks for one but lets clients without one in, and reads it from
	// Conn.TLSConnectionState; the verifying policies check against
	// Config.TLS.ClientCAs.
	ClientAuth tls.ClientAuthType
	// Backend makes the Handler of each connection.
	Backend Backend
}

// Backend is a server's policy: it makes the Handler of each connection.
type Backend interface {
	// Connect is called as a client connects, before the greeting.
	Connect(c *Conn) Handler
}

// BackendFunc is a Backend as a function.
type BackendFunc func(c *Conn) Handler

// Connect calls f(c).
func (f BackendFunc) Connect(c *Conn) Handler { return f(c) }

// Handler is a backend's policy and record for one connection. Its
// methods are called from the connection's goroutine, but for Data,
// which go-smtp runs on one more goroutine for a BDAT transfer.
type Handler interface {
	// Transcript takes each line of the conversation: the client's
	// command lines (result.Client) with any AUTH initial response
	// masked, "****" for each SASL response and for every line after an
	// AUTH command that is not a command (a response sent out of turn,
	// see Conn.command), a summary in place of message text or chunk
	// data, and each reply line sent (result.Server).
	Transcript(dir result.Direction, text string)
	// Event reports what the front did on its own.
	Event(e Event)
	// Command is called with each command line after its Transcript and
	// before the front or go-smtp acts on it. A non-nil reply is sent
	// in its place; a 421 reply then ends the session (RFC 5321 section
	// 3.8).
	Command(cmd Command) (refuse []string)
	// Reply is called with each reply sent, after its Transcript.
	Reply(reply []string)
	// Authenticate decides on the credentials of an AUTH exchange; a
	// non-nil error (an *smtp.SMTPError) is the reply refusing them.
	Authenticate(cred Credentials) error
	// Mail is called with each MAIL command's reverse-path, before the
	// Endpoint's RequireTLS and RequireAuth refusals; an error refuses it.
	Mail(from string) error
	// Rcpt decides on a recipient; an error refuses it.
	Rcpt(to string) error
	// Data takes a message that reached the end of DATA or the last BDAT
	// chunk, with its transaction.
	Data(tx Transaction, r io.Reader) error
	// MessageID is the local part of the queue ID in the reply accepting
	// a message ("250 2.0.0 OK <id@host>").
	MessageID() string
}

// EventKind is what happened on a connection.
type EventKind int

// The events of a connection, each with the Event fields it sets.
const (
	// EventClientHello: a client began a TLS handshake (Hello).
	EventClientHello EventKind = iota
	// EventTLS: TLS is up (TLS).
	EventTLS
	// EventHandshakeFailed: the TLS handshake failed (Err); the
	// connection is closed.
	EventHandshakeFailed
	// EventImplicitTLS: a client began a TLS handshake instead of
	// reading the greeting (Endpoint.DetectImplicitTLS); its
	// EventClientHello follows, then the end of the session.
	EventImplicitTLS
	// EventDropped: Octets octets pipelined after STARTTLS in plaintext
	// were discarded (RFC 3207 section 4.2 has the server forget them;
	// acting on them would let an attacker inject commands into the
	// encrypted session).
	EventDropped
	// EventAuthUser: a SASL exchange named its user (User), as soon as
	// it is known: LOGIN names it before the password is asked for.
	EventAuthUser
	// EventInputEnded: reading from the client failed (Err: io.EOF, a
	// timeout, ErrServerClosed, ErrSessionEnded, ...); InMessage is set
	// when it ended inside message text or a BDAT chunk, of which Octets
	// had arrived. It may come more than once.
	EventInputEnded
	// EventClosed: the connection is closed; the last event.
	EventClosed
	// EventCredentialsInClear: the client sent credentials without TLS
	// (an AUTH initial response, or a SASL response: in an exchange, or
	// out of turn after a refused AUTH); User is the user name they name,
	// when it can be read, never the password. It follows the AUTH
	// command's Command call; it may come once per response line.
	EventCredentialsInClear
)

// Event is something the front did on its own. Only the fields its Kind
// names are set.
type Event struct {
	Kind   EventKind
	Hello  *tls.ClientHelloInfo
	TLS    *tls.ConnectionState
	Err    error
	Octets int
	User   string
	// Alert is, for EventHandshakeFailed, the alert the client sent in a
	// plaintext record, nil when it sent none (see AlertError).
	Alert *Alert
	// InMessage is set on EventInputEnded inside message text or a chunk.
	InMessage bool
}

// Command is a client's command line.
type Command struct {
	// Verb is the command verb as go-smtp reads it, upper-case; "" for a
	// line go-smtp cannot split into one (msreply.ParseCommand).
	Verb string
	// Arg is the rest of the line.
	Arg string
	// Line is the line as recorded: without CRLF, an AUTH initial
	// response masked; redact.Mask for a line after AUTH that is not a
	// command (Verb and Arg are then "").
	Line string
	// Mechanism is the SASL mechanism an AUTH command names, upper-case,
	// also when go-smtp cannot split the line ("auth\tplain\t..."), in
	// which case Verb is ""; "" for other commands.
	Mechanism string
}

// Transaction is the envelope of a message (RFC 5321 section 3.3).
type Transaction struct {
	// User is the authenticated user, "" without AUTH.
	User string
	From string
	To   []string
}

// Server serves Endpoints with go-smtp behind the front.
type Server struct {
	cfg    Config
	server *smtp.Server

	serving sync.WaitGroup // the go-smtp Serve loops
	open    sync.WaitGroup // connections not yet closed

	mu        sync.Mutex
	closed    bool
	seq       int
	active    int // connections counted against MaxConnections
	conns     map[*Conn]struct{}
	listeners []net.Listener
}

// NewServer makes a Server; Serve starts serving.
func NewServer(cfg Config) *Server {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = log.New(io.Discard, "", 0)
	}
	s := &Server{cfg: cfg, conns: make(map[*Conn]struct{})}
	server := smtp.NewServer(smtp.BackendFunc(newSession))
	// The front replaces the greeting that would name Domain.
	server.Domain = "localhost"
	server.MaxMessageBytes = MaxMessageBytes
	server.MaxLineLength = MaxLineLength
	server.EnableSMTPUTF8 = true
	server.EnableBINARYMIME = true
	server.EnableDSN = true
	server.ReadTimeout = cfg.IdleTimeout
	server.WriteTimeout = writeTimeout
	// go-smtp sees plaintext only (the front owns TLS); whether AUTH is
	// offered is the Endpoint's decision (session.AuthMechanisms).
	server.AllowInsecureAuth = true
	server.ErrorLog = cfg.ErrorLog
	s.server = server
	return s
}

// Serve serves ep on l until Close, in a goroutine of its own.
func (s *Server) Serve(l net.Listener, ep *Endpoint) {
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		// Serve returns when Close closes the listener.
		_ = s.server.Serve(&frontListener{Listener: l, srv: s, ep: ep})
	}()
}

// Close stops listening, ends every open connection and waits until each
// connection's Handler has had its EventClosed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	listeners := s.listeners
	s.mu.Unlock()

	var err error
	for _, l := range listeners {
		if lerr := l.Close(); lerr != nil && err == nil && !errors.Is(lerr, net.ErrClosed) {
			err = lerr
		}
	}
	s.serving.Wait()
	s.mu.Lock()
	for c := range s.conns {
		// Only the TCP connection: go-smtp's goroutine for the session
		// sees the end and calls Conn.Close.
		c.raw.Close()
	}
	s.mu.Unlock()
	s.open.Wait()
	return err
}

// StopAccepting closes the listening sockets: no client can connect any
// more, and the connections already open go on until they end or Close
// ends them.
func (s *Server) StopAccepting() {
	s.mu.Lock()
	listeners := s.listeners
	s.mu.Unlock()
	for _, l := range listeners {
		l.Close()
	}
}

// stopping reports whether Close has begun.
func (s *Server) stopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// forget drops a closed connection.
func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if c.counted {
		s.active--
	}
	s.mu.Unlock()
	s.open.Done()
}

// frontListener hands go-smtp front connections.
type frontListener struct {
	net.Listener
	srv *Server
	ep  *Endpoint
}

// Accept waits for a client and wraps its connection.
func (fl *frontListener) Accept() (net.Conn, error) {
	raw, err := fl.Listener.Accept()
	if err != nil {
		return nil, err
	}
	s := fl.srv
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		raw.Close()
		return nil, net.ErrClosed
	}
	s.seq++
	c := newConn(raw, s, fl.ep, s.seq)
	if s.cfg.MaxConnections > 0 && s.active >= s.cfg.MaxConnections {
		c.refusal = []string{TooManyConnections}
	} else {
		c.counted = true
		s.active++
	}
	s.conns[c] = struct{}{}
	s.open.Add(1)
	s.mu.Unlock()
	c.h = fl.ep.Backend.Connect(c)
	if c.refusal != nil && c.counted {
		// The Backend refused it: it does not take a place.
		s.mu.Lock()
		c.counted = false
		s.active--
		s.mu.Unlock()
	}
	return c, nil
}

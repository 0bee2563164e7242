package smtpd

import (
	"errors"
	"io"
	"slices"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/smtpdiag/smtpdiag/internal/msreply"
)

// session is the go-smtp session of one connection: it applies the
// Endpoint's order (STARTTLS with RequireTLS, then AUTH with RequireAuth,
// then mail), runs SASL exchanges, keeps the mail transaction, and asks
// the connection's Handler for the rest.
type session struct {
	c      *Conn
	authed bool
	tx     Transaction
}

var _ smtp.AuthSession = (*session)(nil)

// newSession is the go-smtp backend: one session per connection, created
// at the first EHLO or HELO.
func newSession(sc *smtp.Conn) (smtp.Session, error) {
	c, ok := sc.Conn().(*Conn)
	if !ok {
		return nil, errors.New("smtpd: connection did not pass the front")
	}
	return &session{c: c}, nil
}

func (s *session) hostname() string { return s.c.ep.Hostname }

// AuthMechanisms lists the mechanisms to advertise: none before STARTTLS
// with RequireTLS, as smtp.office365.com offers AUTH only inside TLS.
func (s *session) AuthMechanisms() []string {
	if s.c.ep.RequireTLS && !s.c.Encrypted() {
		return nil
	}
	return s.c.ep.Mechanisms
}

// Auth starts a SASL exchange (RFC 4954 section 4).
func (s *session) Auth(mech string) (sasl.Server, error) {
	if slices.Contains(s.AuthMechanisms(), mech) {
		if server := newSASLServer(mech, s.exchange()); server != nil {
			return server, nil
		}
	}
	// What Exchange Online answers to a mechanism it does not offer, and
	// to AUTH before STARTTLS.
	return nil, msreply.UnrecognizedAuth(s.hostname())
}

// exchange reports a SASL exchange to the Handler and keeps its user once
// the Handler accepts the credentials.
func (s *session) exchange() *saslExchange {
	return &saslExchange{
		hostname: s.hostname(),
		named:    func(user string) { s.c.h.Event(Event{Kind: EventAuthUser, User: user}) },
		authenticate: func(cred Credentials) error {
			if err := s.c.h.Authenticate(cred); err != nil {
				return err
			}
			s.authed = true
			s.tx.User = cred.User
			return nil
		},
	}
}

// Mail answers MAIL as smtp.office365.com does: 451 5.7.3 without TLS,
// 530 5.7.57 without AUTH, where the Endpoint requires them.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := s.c.h.Mail(from); err != nil {
		return err
	}
	if s.c.ep.RequireTLS && !s.c.Encrypted() {
		return msreply.StartTLSRequired(s.hostname())
	}
	if s.c.ep.RequireAuth && !s.authed {
		return msreply.NotAuthenticated(s.hostname())
	}
	s.tx.From = from
	return nil
}

// Rcpt asks the Handler about each recipient.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := s.c.h.Rcpt(to); err != nil {
		return err
	}
	s.tx.To = append(s.tx.To, to)
	return nil
}

// Data hands the message to the Handler.
func (s *session) Data(r io.Reader) error {
	tx := s.tx
	tx.To = slices.Clone(tx.To)
	return s.c.h.Data(tx, r)
}

// Reset ends the mail transaction (RSET, a new EHLO, the end of DATA).
func (s *session) Reset() {
	s.tx = Transaction{User: s.tx.User}
}

// Logout ends the session.
func (s *session) Logout() error { return nil }

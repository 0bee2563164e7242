package simulator

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session applies Exchange Online's policy to one connection: who may
// authenticate, who may send, which recipients the MX endpoint refuses.
// Its negative replies carry Microsoft's codes and texts
// (m365-facts.md section 3).
type session struct {
	sim  *Simulator
	conn *frontConn
	user string // the authenticated user, "" before AUTH
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

// newSession is the go-smtp backend: one session per connection, created at
// the first EHLO or HELO.
func (s *Simulator) newSession(c *smtp.Conn) (smtp.Session, error) {
	fc, ok := c.Conn().(*frontConn)
	if !ok {
		return nil, errors.New("simulator: connection did not pass the front layer")
	}
	return &session{sim: s, conn: fc}, nil
}

func (s *session) hostname() string { return s.conn.endpoint.hostname }

// AuthMechanisms lists the mechanisms to advertise. Exchange Online offers
// AUTH only once the connection is encrypted, and never on its MX endpoint.
func (s *session) AuthMechanisms() []string {
	if !s.conn.encrypted() {
		return nil
	}
	return s.conn.endpoint.mechanisms()
}

// Auth starts a SASL exchange (RFC 4954 section 4).
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !slices.Contains(s.AuthMechanisms(), mech) {
		return nil, &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 7, 4},
			Message: fmt.Sprintf("Unrecognized authentication type [%s]", s.hostname())}
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return s.authUnsuccessful()
			}
			return s.login(username, password, false)
		}), nil
	case "LOGIN":
		return &loginServer{authenticate: func(username, password string) error {
			return s.login(username, password, false)
		}}, nil
	default: // XOAUTH2
		return &xoauth2Server{
			authenticate: func(username, token string) error { return s.login(username, token, true) },
			malformed:    s.authUnsuccessful,
		}, nil
	}
}

// login checks a password or bearer token. A disabled mailbox fails only
// with the right credentials, so that 5.7.139 says "the secret is right,
// SMTP AUTH is off" and 5.7.3 says "the secret is wrong".
func (s *session) login(username, secret string, token bool) error {
	u, ok := s.sim.users[strings.ToLower(username)]
	want := u.Password
	if token {
		want = u.Token
	}
	if !ok || want == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 {
		return s.authUnsuccessful()
	}
	if u.Disabled {
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 139},
			Message: fmt.Sprintf("Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "+
				"Visit https://aka.ms/smtp_auth_disabled for more information. [%s]", s.hostname())}
	}
	s.user = username
	return nil
}

func (s *session) authUnsuccessful() error {
	return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3},
		Message: fmt.Sprintf("Authentication unsuccessful [%s]", s.hostname())}
}

// Mail accepts any reverse-path on the MX endpoint; the submission
// endpoints require TLS and then AUTH, and answer at MAIL FROM as
// Exchange Online does.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.conn.endpoint.role != roleMX {
		if !s.conn.encrypted() {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{5, 7, 3},
				Message: fmt.Sprintf("STARTTLS is required to send mail [%s]", s.hostname())}
		}
		if s.user == "" {
			return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 57},
				Message: fmt.Sprintf("Client not authenticated to send mail. [%s]", s.hostname())}
		}
	}
	s.from = from
	return nil
}

// Rcpt accepts every recipient after AUTH on the submission endpoints. On
// the MX endpoint it plays the tenant's edge: local parts starting with
// "blocked" get the banned-IP rejection, local parts starting with "busy"
// the throttling reply, other domains than the accepted one a relay denial.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.conn.endpoint.role == roleMX {
		local, domain := splitAddress(to)
		local = strings.ToLower(local)
		switch {
		case strings.HasPrefix(local, "blocked"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 606},
				Message: fmt.Sprintf("Access denied, banned sending IP [%s]. To request removal from this list "+
					"please visit https://sender.office.com/ and follow the directions. For more information "+
					"please go to http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) [%s]",
					s.conn.clientIP, s.hostname())}
		case strings.HasPrefix(local, "busy"):
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 500},
				Message: fmt.Sprintf("Server busy. Please try again later from [%s]. (S77719) [%s]",
					s.conn.clientIP, s.hostname())}
		case !strings.EqualFold(domain, s.sim.acceptedDomain):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 64},
				Message: fmt.Sprintf("TenantAttribution; Relay Access Denied [%s]", s.hostname())}
		}
	}
	s.to = append(s.to, to)
	return nil
}

// splitAddress splits a mailbox at its last "@".
func splitAddress(addr string) (local, domain string) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr, ""
	}
	return addr[:i], addr[i+1:]
}

// Data keeps the message in memory; nothing is ever delivered.
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sim.record(Envelope{
		Endpoint: s.conn.endpoint.role.String(),
		Username: s.user,
		From:     s.from,
		To:       slices.Clone(s.to),
		Data:     data,
	})
	return nil
}

// Reset ends the mail transaction (RSET, a new EHLO, or the end of DATA).
func (s *session) Reset() {
	s.from = ""
	s.to = nil
}

// Logout ends the session.
func (s *session) Logout() error { return nil }

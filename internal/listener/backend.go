package listener

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// session applies smtp.office365.com's order to one device connection:
// STARTTLS (with RequireTLS), then AUTH (with AcceptAuth), then mail. Its
// negative replies carry Microsoft's codes and texts (m365-facts.md
// section 3); what the device sends is recorded in the front connection's
// result.DeviceSession.
type session struct {
	c      *frontConn
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

// newSession is the go-smtp backend: one session per connection, created
// at the first EHLO or HELO.
func (l *Listener) newSession(sc *smtp.Conn) (smtp.Session, error) {
	fc, ok := sc.Conn().(*frontConn)
	if !ok {
		return nil, errors.New("listener: connection did not pass the front layer")
	}
	return &session{c: fc}, nil
}

func (s *session) cfg() *Config { return &s.c.l.cfg }

// AuthMechanisms lists the mechanisms to advertise: none without
// AcceptAuth, and none before STARTTLS with RequireTLS, as
// smtp.office365.com offers AUTH only inside TLS.
func (s *session) AuthMechanisms() []string {
	cfg := s.cfg()
	if !cfg.AcceptAuth || (cfg.RequireTLS && !s.c.encrypted()) {
		return nil
	}
	return cfg.Mechanisms
}

// Auth starts a SASL exchange (RFC 4954 section 4). Any credentials are
// accepted; only the user name is recorded.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !slices.Contains(s.AuthMechanisms(), mech) {
		// What Exchange Online answers to a mechanism it does not offer,
		// and to AUTH before STARTTLS.
		return nil, &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 7, 4},
			Message: fmt.Sprintf("Unrecognized authentication type [%s]", s.cfg().Hostname)}
	}
	accept := func(user string) error {
		s.c.authUser(user)
		s.authed = true
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, username, _ string) error {
			return accept(username)
		}), nil
	case "LOGIN":
		return &loginServer{user: s.c.authUser, accept: accept}, nil
	case "CRAM-MD5":
		return &cramMD5Server{hostname: s.cfg().Hostname, accept: accept}, nil
	default: // XOAUTH2
		return &xoauth2Server{accept: accept, malformed: s.authUnsuccessful}, nil
	}
}

func (s *session) authUnsuccessful() error {
	return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3},
		Message: fmt.Sprintf("Authentication unsuccessful [%s]", s.cfg().Hostname)}
}

// Mail records the sender and answers at MAIL FROM as smtp.office365.com
// does: 451 5.7.3 without TLS, 530 5.7.57 without AUTH.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.c.update(func(rec *result.DeviceSession) { rec.MailFrom = &from })
	cfg := s.cfg()
	if cfg.RequireTLS && !s.c.encrypted() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{5, 7, 3},
			Message: fmt.Sprintf("STARTTLS is required to send mail [%s]", cfg.Hostname)}
	}
	if cfg.AcceptAuth && !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 57},
			Message: fmt.Sprintf("Client not authenticated to send mail. [%s]", cfg.Hostname)}
	}
	s.from = from
	return nil
}

// Rcpt accepts every recipient: what a device may send to is the tenant's
// business, not the device's.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	s.c.update(func(rec *result.DeviceSession) { rec.Recipients = append(rec.Recipients, to) })
	return nil
}

// maxHeaderBytes bounds the header section kept of a message; a scan's
// header is a few hundred octets.
const maxHeaderBytes = 256 << 10

// Data records the message's header fields and size, and its text only
// with KeepMessage. Nothing is ever delivered.
func (s *session) Data(r io.Reader) error {
	counter := &countingReader{r: r}
	var kept bytes.Buffer
	src := io.Reader(counter)
	if s.cfg().KeepMessage {
		src = io.TeeReader(counter, &kept)
	}
	br := bufio.NewReader(src)
	headers := readHeaders(br)
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	m := result.Message{From: s.from, To: slices.Clone(s.to), Size: counter.n, Headers: headers}
	if s.cfg().KeepMessage {
		m.Body = kept.Bytes()
	}
	s.c.update(func(rec *result.DeviceSession) { rec.Messages = append(rec.Messages, m) })
	return nil
}

// readHeaders reads the header section (RFC 5322 section 2.2) up to the
// empty line, unfolding continuation lines. It stops early, keeping what
// it has, at maxHeaderBytes or at a line that is not a header field.
func readHeaders(br *bufio.Reader) []result.Header {
	var out []result.Header
	read := 0
	for read < maxHeaderBytes {
		line, err := br.ReadString('\n')
		read += len(line)
		text := strings.TrimRight(line, "\r\n")
		if text == "" {
			return out
		}
		if (text[0] == ' ' || text[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += " " + strings.TrimSpace(text)
		} else if name, value, ok := strings.Cut(text, ":"); ok && name != "" && !strings.ContainsAny(name, " \t") {
			out = append(out, result.Header{Name: name, Value: strings.TrimSpace(value)})
		} else {
			return out
		}
		if err != nil {
			return out
		}
	}
	return out
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Reset ends the mail transaction (RSET, a new EHLO, the end of DATA).
func (s *session) Reset() {
	s.from = ""
	s.to = nil
}

// Logout ends the session.
func (s *session) Logout() error { return nil }

// authUser records the user name of the AUTH exchange in progress.
func (c *frontConn) authUser(user string) {
	c.update(func(rec *result.DeviceSession) {
		if n := len(rec.Auth); n > 0 {
			rec.Auth[n-1].User = user
		}
	})
}

package simulator

import (
	"crypto/tls"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"
	"github.com/smtpdiag/smtpdiag/internal/msreply"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpd"
)

// session is the smtpd.Handler of one connection: it applies Exchange
// Online's policy (who may authenticate, which recipients the MX
// endpoint refuses), keeps the messages and writes the protocol log. Its
// negative replies carry Microsoft's codes and texts (m365-facts.md
// section 3).
type session struct {
	sim *Simulator
	ep  *endpoint
	c   *smtpd.Conn

	// relay, once judged (relayJudged), says whether the client's
	// certificate lets it relay through a certificate-based connector.
	relayJudged bool
	relay       bool
}

// connect is an endpoint's smtpd.Backend.
func (s *Simulator) connect(c *smtpd.Conn, ep *endpoint) smtpd.Handler {
	sess := &session{sim: s, ep: ep, c: c}
	sess.logf("connect from %s", c.RemoteAddr())
	return sess
}

func (s *session) hostname() string { return s.ep.hostname }

// logf writes a line of the protocol log, headed by the endpoint and the
// connection's number.
func (s *session) logf(format string, args ...any) {
	if s.sim.log == nil {
		return
	}
	s.sim.logf("%s#%d %s", s.ep.role, s.c.Number(), fmt.Sprintf(format, args...))
}

// Transcript logs a line: "C: " from the client, "S: " from the server.
func (s *session) Transcript(dir result.Direction, text string) {
	s.logf("%s: %s", dir, text)
}

// Event logs TLS, dropped input and the end of the connection.
func (s *session) Event(e smtpd.Event) {
	switch e.Kind {
	case smtpd.EventTLS:
		s.logf("TLS established: %s, %s", tls.VersionName(e.TLS.Version), tls.CipherSuiteName(e.TLS.CipherSuite))
	case smtpd.EventHandshakeFailed:
		s.logf("TLS handshake failed: %v", e.Err)
	case smtpd.EventDropped:
		s.logf("dropped %d octets sent after STARTTLS in plaintext", e.Octets)
	case smtpd.EventClosed:
		s.logf("closed")
	}
}

// Command counts the DATA and BDAT commands, accepted or not.
func (s *session) Command(cmd smtpd.Command) []string {
	if cmd.Verb == "DATA" || cmd.Verb == "BDAT" {
		s.sim.countDataCommand()
	}
	return nil
}

// Reply needs nothing: the log has the reply lines.
func (s *session) Reply([]string) {}

// Authenticate checks a password or bearer token. A disabled mailbox
// fails only with the right credentials, so that 5.7.139 says "the secret
// is right, SMTP AUTH is off" and 5.7.3 says "the secret is wrong". A
// signed token (Options.OAuth) that Exchange Online would refuse gets
// 535 5.7.3 whatever the reason, as on Exchange Online; the protocol log
// names the reason.
func (s *session) Authenticate(cred smtpd.Credentials) error {
	if cred.Identity != "" && cred.Identity != cred.User {
		// PLAIN's authorization identity (RFC 4616 section 2): acting
		// as another user is not offered.
		return msreply.AuthUnsuccessful(s.hostname())
	}
	u, ok := s.sim.users[strings.ToLower(cred.User)]
	want := u.Password
	if cred.Mechanism == "XOAUTH2" {
		want = u.Token
	}
	accepted := ok && want != "" && cred.Matches(want)
	if !accepted && ok && cred.Mechanism == "XOAUTH2" && s.sim.tokens != nil && looksLikeJWT(cred.Secret) {
		if reason := s.sim.tokens.check(cred.User, cred.Secret); reason != "" {
			s.logf("XOAUTH2 token refused for %s: %s", cred.User, reason)
		} else {
			accepted = true
		}
	}
	if !accepted {
		if !ok && cred.Mechanism == "XOAUTH2" && s.sim.tokens != nil {
			s.logf("XOAUTH2 token refused for %s: no such mailbox", cred.User)
		}
		return msreply.AuthUnsuccessful(s.hostname())
	}
	if u.Disabled {
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 139},
			Message: fmt.Sprintf("Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "+
				"Visit https://aka.ms/smtp_auth_disabled for more information. [%s]", s.hostname())}
	}
	return nil
}

// Mail accepts any reverse-path; the submission endpoints' TLS and AUTH
// refusals are the front's (smtpd.Endpoint).
func (s *session) Mail(string) error { return nil }

// Rcpt accepts every recipient after AUTH on the submission endpoints. On
// the MX endpoint it plays the tenant's edge: local parts starting with
// "blocked" get the banned-IP rejection, local parts starting with "busy"
// the throttling reply, other domains than the accepted one a relay
// denial, unless a certificate-based inbound connector lets the client
// relay (connectorRelay).
func (s *session) Rcpt(to string) error {
	if s.ep.role != roleMX {
		return nil
	}
	local, domain := splitAddress(to)
	local = strings.ToLower(local)
	switch {
	case strings.HasPrefix(local, "blocked"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 606},
			Message: fmt.Sprintf("Access denied, banned sending IP [%s]. To request removal from this list "+
				"please visit https://sender.office.com/ and follow the directions. For more information "+
				"please go to http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) [%s]",
				s.c.ClientIP(), s.hostname())}
	case strings.HasPrefix(local, "busy"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 500},
			Message: fmt.Sprintf("Server busy. Please try again later from [%s]. (S77719) [%s]",
				s.c.ClientIP(), s.hostname())}
	case !strings.EqualFold(domain, s.sim.acceptedDomain) && !s.connectorRelay():
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 64},
			Message: fmt.Sprintf("TenantAttribution; Relay Access Denied [%s]", s.hostname())}
	}
	return nil
}

// connectorRelay reports whether the client may relay to other domains
// than the accepted one through a certificate-based inbound connector
// (Options.ConnectorCertificateNames): inside TLS, with a client
// certificate whose names match the connector's TlsSenderCertificateName
// and, with Options.ConnectorRoots, whose chain those roots trust. This
// is option 3 of Microsoft's "How to set up a multifunction device or
// application to send email using Microsoft 365 or Office 365" (SMTP
// relay through a connector that recognises the device by its IP
// address or its certificate),
// https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365,
// with the certificate named as New-InboundConnector's
// -TlsSenderCertificateName names it,
// https://learn.microsoft.com/en-us/powershell/module/exchangepowershell/new-inboundconnector.
// The judgement is made once per TLS session, and logged.
func (s *session) connectorRelay() bool {
	if s.sim.connector == nil {
		return false
	}
	if s.relayJudged {
		return s.relay
	}
	state, ok := s.c.TLSConnectionState()
	if !ok {
		// Not yet judged: TLS may still come with STARTTLS.
		return false
	}
	s.relayJudged = true
	name, err := s.sim.connector.accepts(state)
	if err != nil {
		s.logf("certificate-based connector does not apply: %v", err)
		return false
	}
	s.relay = true
	s.logf("certificate-based connector applies: the client certificate matches TlsSenderCertificateName %s", name)
	return true
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
func (s *session) Data(tx smtpd.Transaction, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sim.record(Envelope{
		Endpoint: s.ep.role.String(),
		Username: tx.User,
		From:     tx.From,
		To:       tx.To,
		Data:     data,
	})
	return nil
}

// MessageID numbers the accepted messages across the simulator.
func (s *session) MessageID() string { return strconv.Itoa(s.sim.nextMessageID()) }

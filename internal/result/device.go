package result

import (
	"fmt"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
)

// DeviceSession is the record of one device connection (smtpdiag listen): what the device
// offered and did, what the listener answered, and a transcript with the
// device's secrets masked. Passwords and tokens are never stored: SASL
// responses appear as **** and only the mechanism and the user name are
// kept.
type DeviceSession struct {
	// Number counts the listener's sessions from 1, in the order the
	// devices connected.
	Number int `json:"number"`
	// Listen is the listening address, Hostname the name the listener
	// announced in its greeting.
	Listen   string `json:"listen"`
	Hostname string `json:"hostname"`
	// RemoteAddr is the device's address and port, ClientIP its address.
	RemoteAddr string        `json:"remote_addr"`
	ClientIP   string        `json:"client_ip"`
	Started    time.Time     `json:"started"`
	Duration   time.Duration `json:"duration_ns"`

	// Helo is the argument of the device's last EHLO or HELO; UsedHELO
	// is true when that was a HELO (no ESMTP, so no STARTTLS or AUTH).
	// SentHello is true once the device sent EHLO or HELO at all: it
	// speaks SMTP.
	Helo      string `json:"helo,omitempty"`
	UsedHELO  bool   `json:"used_helo,omitempty"`
	SentHello bool   `json:"sent_hello,omitempty"`

	// Refused says why the listener turned the session away before it
	// could be tested, with 421 4.3.2 ("too many concurrent
	// connections", "another device session was being tested"); "" when
	// it did not.
	Refused string `json:"refused,omitempty"`

	// StartTLS is true when the device sent STARTTLS. ImplicitTLS is true
	// when it began a TLS handshake instead of reading the greeting, as a
	// client configured for port 465 does.
	StartTLS    bool `json:"starttls"`
	ImplicitTLS bool `json:"implicit_tls,omitempty"`
	// ClientHello is what the device offered, nil when it never began a
	// handshake.
	ClientHello *ClientHello `json:"client_hello,omitempty"`
	// TLS is the negotiated session, nil without one; HandshakeError says
	// why a handshake failed, and HandshakeAlert names the alert the
	// device sent then ("unknown_ca", RFC 8446 section 6), "" when none
	// was seen.
	TLS            *DeviceTLS `json:"tls,omitempty"`
	HandshakeError string     `json:"handshake_error,omitempty"`
	HandshakeAlert string     `json:"handshake_alert,omitempty"`

	// Auth lists the device's AUTH commands in order.
	Auth []AuthAttempt `json:"auth,omitempty"`
	// MailFrom is the sender of the device's last MAIL command (accepted
	// or not), nil when it sent none. Each message has its own envelope
	// (Message.From and To).
	MailFrom *string `json:"mail_from,omitempty"`
	// Recipients are the RCPT TO addresses the listener accepted, over
	// the whole session.
	Recipients []string `json:"recipients,omitempty"`
	// Messages are the messages that reached the end of DATA.
	Messages []Message `json:"messages,omitempty"`
	// Rejections are the negative replies the listener gave, in order.
	Rejections []Rejection `json:"rejections,omitempty"`

	// LastStep is the last step of the submission the device took:
	// "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL FROM", "RCPT TO", "DATA",
	// "BDAT", or "the message" once one was accepted; "" before any.
	LastStep string `json:"last_step,omitempty"`
	// EndedBy says who ended the session: EndedByDevice, EndedByTimeout
	// or EndedByListener; "" when not known.
	EndedBy string `json:"ended_by,omitempty"`
	// EndedInMessage is true when the session ended inside message text
	// (after 354) or a BDAT chunk, of which PartialOctets had arrived.
	EndedInMessage bool  `json:"ended_in_message,omitempty"`
	PartialOctets  int64 `json:"partial_octets,omitempty"`
	// BudgetReached is true when the record reached the listener's
	// budget for one session, RecordBudget octets of recorded text
	// (transcript lines, rejections, envelopes, header fields), and the
	// listener ended the session with 421 4.7.0. OmittedLines counts the
	// transcript lines that were not kept.
	BudgetReached bool `json:"budget_reached,omitempty"`
	RecordBudget  int  `json:"record_budget,omitempty"`
	OmittedLines  int  `json:"omitted_lines,omitempty"`

	// End says how the session ended ("QUIT", "the device closed the
	// connection", "idle timeout", "the listener stopped").
	End        string           `json:"end"`
	Transcript []TranscriptLine `json:"transcript"`
}

// EndedByDevice, EndedByTimeout and EndedByListener say who ended a
// device session (DeviceSession.EndedBy).
const (
	EndedByDevice   = "device"   // QUIT, or the device closed the connection
	EndedByTimeout  = "timeout"  // the device sent nothing for the idle timeout
	EndedByListener = "listener" // a 421, a failed handshake, or the listener stopped
)

// NotTested says why the session is no test of a device, "" when it is
// one: the listener refused it, or the client never spoke SMTP (no EHLO
// or HELO, no TLS handshake), as a port scan or a health check does.
func (s *DeviceSession) NotTested() string {
	switch {
	case s.Refused != "":
		return "refused with 421 4.3.2: " + s.Refused
	case !s.SentHello && !s.ImplicitTLS && s.ClientHello == nil:
		return "a connection without SMTP: the client never sent EHLO or HELO (a port scan or a health check?)"
	}
	return ""
}

// Stopped says where the session stopped, for a person: "the device ended
// the session after AUTH", "the device closed the connection during the
// message, after 4096 octets of it", "the session timed out after RCPT
// TO".
func (s *DeviceSession) Stopped() string {
	who := "the device ended the session"
	switch s.EndedBy {
	case EndedByTimeout:
		who = "the session timed out (the device sent nothing more)"
	case EndedByListener:
		who = "the listener ended the session"
	}
	if s.EndedInMessage {
		if s.EndedBy == EndedByDevice || s.EndedBy == "" {
			who = "the device closed the connection"
		}
		return fmt.Sprintf("%s during the message, after %d %s of it", who, s.PartialOctets, plural(s.PartialOctets, "octet"))
	}
	switch s.LastStep {
	case "":
		return who + " after the greeting"
	case "the message":
		return who + " after the message"
	}
	return who + " after " + s.LastStep
}

// plural is word, with an s unless n is 1.
func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// ClientHello is what a device offered at the start of a TLS handshake
// (RFC 8446 section 4.1.2; RFC 5246 section 7.4.1.2 for TLS 1.2 and older).
// GREASE values (RFC 8701) are left out.
type ClientHello struct {
	// ServerName is the SNI the device sent ("" when none).
	ServerName string `json:"server_name,omitempty"`
	// Versions are the protocol versions offered, newest first ("1.2",
	// "1.1", "1.0"). A client that sends no supported_versions extension
	// offers every version up to its legacy version.
	Versions []string `json:"versions"`
	// LegacyVersion is true when the device sent no supported_versions
	// extension (RFC 8446 section 4.2.1): Versions are then derived from
	// the ClientHello's version field, the highest the device speaks, and
	// the older ones it may accept.
	LegacyVersion bool `json:"legacy_version,omitempty"`
	// CipherSuites are the offered suites' IANA names, in the device's
	// order of preference.
	CipherSuites []string `json:"cipher_suites"`
	// ECDHE is true when some offered suite uses an ECDHE key exchange.
	ECDHE bool `json:"ecdhe"`
	// Groups are the supported groups (named curves) offered.
	Groups []string `json:"groups,omitempty"`
}

// OfferedVersions renders the offered versions: "TLS 1.3, 1.2", or "up
// to TLS 1.2 (no supported_versions extension)".
func (h *ClientHello) OfferedVersions() string {
	switch {
	case len(h.Versions) == 0:
		return "no TLS version (SSL 3.0 or older)"
	case h.LegacyVersion:
		return "up to TLS " + h.Versions[0] + " (no supported_versions extension)"
	}
	return "TLS " + strings.Join(h.Versions, ", ")
}

// DeviceTLS is the TLS session a device negotiated.
type DeviceTLS struct {
	// Version is "1.0", "1.1", "1.2" or "1.3".
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	ServerName  string `json:"server_name,omitempty"`
}

// AuthAttempt is one AUTH command of the device.
type AuthAttempt struct {
	Mechanism string `json:"mechanism"`
	// User is the user name the device sent, "" when the exchange ended
	// before it.
	User string `json:"user,omitempty"`
	// AfterTLS is true when the command came inside TLS.
	AfterTLS bool `json:"after_tls"`
	// InClear is true when the device sent credentials without TLS: an
	// initial response, or SASL responses (its password, a token or a
	// digest), also after the listener refused the AUTH command.
	InClear bool `json:"in_clear,omitempty"`
	// Reply is the listener's final reply.
	Reply esmtp.Reply `json:"reply"`
}

// Message is a message that reached the end of DATA (or the last BDAT
// chunk).
type Message struct {
	From string   `json:"from"`
	To   []string `json:"to"`
	// Size is the message's length in octets, as received.
	Size int64 `json:"size"`
	// Headers are the message's header fields in order, unfolded;
	// HeadersCut is true when the header section was longer than the
	// listener keeps and only its start is here.
	Headers    []Header `json:"headers"`
	HeadersCut bool     `json:"headers_cut,omitempty"`
	// File is where the message was written as it arrived, when the
	// listener keeps messages (smtpdiag listen --keep-message); KeepError
	// says why it could not be written. The text itself is never held in
	// memory or written to reports.
	File      string `json:"file,omitempty"`
	KeepError string `json:"keep_error,omitempty"`
}

// Header is one header field.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Header returns the value of the first field with the name, or "".
func (m Message) Header(name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Rejection is a negative reply the listener gave to a device command.
type Rejection struct {
	// Command is the device's command with secrets masked ("MAIL
	// FROM:<scanner@contoso.com>", "AUTH PLAIN ****"); "" when the reply
	// did not answer a command (after a failed TLS handshake).
	Command string      `json:"command"`
	Reply   esmtp.Reply `json:"reply"`
}

// String renders the rejection on one line: "530 5.7.57 ... at MAIL
// FROM:<x>".
func (r Rejection) String() string {
	if r.Command == "" {
		return r.Reply.String()
	}
	return r.Reply.String() + " at " + r.Command
}

// Fact is one line of a session's description, for reporters.
type Fact struct {
	Name  string
	Value string
}

// summaryHeaders are the header fields Facts shows of each message.
var summaryHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "X-Mailer", "Content-Type"}

// Facts describes the session for a person, one fact per line: the device
// and its greeting, the ClientHello offer, the TLS session, AUTH, the
// envelope and each message. Reporters show them as they are.
func (s *DeviceSession) Facts() []Fact {
	var out []Fact
	add := func(name, format string, args ...any) {
		out = append(out, Fact{Name: name, Value: fmt.Sprintf(format, args...)})
	}
	device := s.RemoteAddr
	if s.Helo != "" {
		verb := "EHLO"
		if s.UsedHELO {
			verb = "HELO"
		}
		device += ", " + verb + " " + s.Helo
	}
	add("device", "%s", device)
	if s.Refused != "" {
		add("refused", "421 4.3.2: %s", s.Refused)
	}
	switch {
	case s.ImplicitTLS:
		add("STARTTLS", "no: the device began TLS at once (implicit TLS, as on port 465)")
	case s.StartTLS:
		add("STARTTLS", "yes")
	default:
		add("STARTTLS", "no")
	}
	if h := s.ClientHello; h != nil {
		sni := "no SNI"
		if h.ServerName != "" {
			sni = "SNI " + h.ServerName
		}
		ecdhe := "no ECDHE suite"
		if h.ECDHE {
			ecdhe = "ECDHE offered"
		}
		versions := h.OfferedVersions()
		suites := fmt.Sprintf("%d cipher suites", len(h.CipherSuites))
		if len(h.CipherSuites) == 1 {
			suites = "1 cipher suite"
		}
		add("ClientHello", "offers %s; %s, %s; %s", versions, suites, ecdhe, sni)
		add("cipher suites", "%s", strings.Join(h.CipherSuites, ", "))
		if len(h.Groups) > 0 {
			add("groups", "%s", strings.Join(h.Groups, ", "))
		}
	}
	switch {
	case s.TLS != nil:
		add("TLS", "%s, %s", s.TLS.Version, s.TLS.CipherSuite)
	case s.HandshakeError != "":
		add("TLS", "handshake failed: %s", s.HandshakeError)
	}
	for _, a := range s.Auth {
		user := a.User
		if user == "" {
			user = "(no user name sent)"
		}
		where := "before TLS"
		if a.AfterTLS {
			where = "inside TLS"
		}
		if a.InClear {
			where = "before TLS: the device sent its credentials without TLS"
		}
		add("AUTH", "%s as %s, %s (password not recorded): %s", a.Mechanism, user, where, a.Reply)
	}
	switch {
	case len(s.Messages) == 0 && s.MailFrom != nil:
		add("envelope", "%s", envelope(*s.MailFrom, s.Recipients))
	case len(s.Messages) == 1:
		add("envelope", "%s", envelope(s.Messages[0].From, s.Messages[0].To))
	}
	for i, m := range s.Messages {
		if len(s.Messages) > 1 {
			add(fmt.Sprintf("envelope %d", i+1), "%s", envelope(m.From, m.To))
		}
		parts := []string{fmt.Sprintf("%d octets", m.Size)}
		for _, name := range summaryHeaders {
			if v := m.Header(name); v != "" {
				parts = append(parts, name+": "+v)
			}
		}
		if m.HeadersCut {
			parts = append(parts, "header section cut short")
		}
		switch {
		case m.File != "":
			parts = append(parts, "kept as "+m.File)
		case m.KeepError != "":
			parts = append(parts, "not kept: "+m.KeepError)
		}
		add(fmt.Sprintf("message %d", i+1), "%s", strings.Join(parts, "; "))
	}
	if s.BudgetReached {
		add("record", "reached its budget of %d KiB for one session, so the listener ended the session with 421 4.7.0; %d transcript %s not kept",
			s.RecordBudget>>10, s.OmittedLines, plural(int64(s.OmittedLines), "line"))
	}
	if s.End != "" {
		add("ended", "%s", s.End)
	}
	return out
}

// envelope renders a transaction's envelope: "MAIL FROM:<a>, RCPT TO: b, c".
func envelope(from string, to []string) string {
	env := "MAIL FROM:<" + from + ">"
	if len(to) > 0 {
		env += ", RCPT TO: " + strings.Join(to, ", ")
	}
	return env
}

package listener

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpd"
)

// legacyTLSReply is Exchange Online's answer on its default endpoints to
// a client that negotiated TLS 1.0 or 1.1 (m365-facts.md section 2;
// UNVERIFIED: the text comes from a third-party report).
const legacyTLSReply = "421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. Visit https://aka.ms/smtp_auth_tls"

// maxHeaderBytes bounds the header section kept of a message; a scan's
// header is a few hundred octets.
const maxHeaderBytes = 256 << 10

// device is the smtpd.Handler of one device connection: it accepts any
// credentials and every recipient, and records what the device does in
// a result.DeviceSession, which OnSession gets once the connection has
// ended. Data of a BDAT transfer runs on a goroutine of its own, which
// is why the record has a mutex.
type device struct {
	l     *Listener
	c     *smtpd.Conn
	start time.Time

	mu  sync.Mutex
	rec *result.DeviceSession

	// legacy is the TLS version of a TLS 1.0 or 1.1 session the listener
	// does not allow: the next command gets 421 4.7.66.
	legacy string
	// command is the device's last command line, masked, for the
	// rejections it gets, and verb its verb; authIndex is the AUTH
	// attempt awaiting its final reply, -1 when none.
	command   string
	verb      string
	authIndex int
}

// connect is the listener's smtpd.Backend.
func (l *Listener) connect(c *smtpd.Conn) smtpd.Handler {
	now := l.cfg.Now()
	d := &device{
		l:         l,
		c:         c,
		start:     now,
		authIndex: -1,
		rec: &result.DeviceSession{
			Number:     c.Number(),
			Listen:     l.Addr(),
			Hostname:   l.cfg.Hostname,
			RemoteAddr: c.RemoteAddr().String(),
			ClientIP:   c.ClientIP(),
			Started:    now,
		},
	}
	d.Transcript(result.Note, "connection from "+d.rec.RemoteAddr+" to "+c.LocalAddr().String())
	if l.cfg.OnConnect != nil {
		l.cfg.OnConnect(d.rec.Number, d.rec.RemoteAddr)
	}
	return d
}

// update changes the record under its lock.
func (d *device) update(f func(s *result.DeviceSession)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d.rec)
}

// Transcript adds a transcript line.
func (d *device) Transcript(dir result.Direction, text string) {
	offset := d.l.cfg.Now().Sub(d.start)
	d.update(func(s *result.DeviceSession) {
		s.Transcript = append(s.Transcript, result.TranscriptLine{Offset: offset, Direction: dir, Text: text})
	})
}

// ended records why the session ended, unless that is already known.
func (d *device) ended(why string) {
	d.update(func(s *result.DeviceSession) {
		if s.End == "" {
			s.End = why
		}
	})
}

// Event records TLS, the ClientHello and the end of the session.
func (d *device) Event(e smtpd.Event) {
	switch e.Kind {
	case smtpd.EventClientHello:
		d.recordHello(e.Hello)
	case smtpd.EventTLS:
		session := &result.DeviceTLS{
			Version:     esmtp.TLSVersion(e.TLS.Version),
			CipherSuite: SuiteName(e.TLS.CipherSuite),
			ServerName:  e.TLS.ServerName,
		}
		d.update(func(s *result.DeviceSession) { s.TLS = session })
		d.Transcript(result.TLSEvent, fmt.Sprintf("established TLS %s, %s", session.Version, session.CipherSuite))
		if e.TLS.Version < tls.VersionTLS12 && !d.l.cfg.AllowLegacyTLS {
			d.legacy = session.Version
		}
	case smtpd.EventHandshakeFailed:
		d.update(func(s *result.DeviceSession) { s.HandshakeError = e.Err.Error() })
		d.Transcript(result.TLSEvent, "handshake failed: "+e.Err.Error())
		d.ended("TLS handshake failed")
	case smtpd.EventImplicitTLS:
		d.update(func(s *result.DeviceSession) { s.ImplicitTLS = true })
		d.Transcript(result.TLSEvent, "the device began a TLS handshake instead of SMTP (implicit TLS, as on port 465)")
		d.ended("the device expected implicit TLS (port 465 style); smtp.office365.com offers only STARTTLS")
	case smtpd.EventDropped:
		d.Transcript(result.Note, fmt.Sprintf("dropped %d octets the device sent after STARTTLS in plaintext", e.Octets))
	case smtpd.EventAuthUser:
		d.update(func(s *result.DeviceSession) {
			if n := len(s.Auth); n > 0 {
				s.Auth[n-1].User = e.User
			}
		})
	case smtpd.EventInputEnded:
		d.endedBy(e.Err)
	case smtpd.EventClosed:
		d.closed()
	}
}

// endedBy records the read error that ended the session.
func (d *device) endedBy(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, smtpd.ErrServerClosed):
		d.ended("the listener stopped")
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		d.ended(fmt.Sprintf("idle timeout: the device sent nothing for %s", d.l.cfg.IdleTimeout))
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		d.ended("the device closed the connection")
	default:
		d.ended(err.Error())
	}
}

// closed finishes the record and hands it on.
func (d *device) closed() {
	d.ended("the listener closed the connection")
	end := d.l.cfg.Now()
	d.mu.Lock()
	d.rec.Duration = end.Sub(d.start)
	rec := d.rec
	d.mu.Unlock()
	d.Transcript(result.Note, "connection closed: "+rec.End)
	if d.l.cfg.OnSession != nil {
		d.l.cfg.OnSession(rec)
	}
}

// recordHello keeps what the device offered.
func (d *device) recordHello(hi *tls.ClientHelloInfo) {
	// 43 is the supported_versions extension (RFC 8446 section 4.2.1).
	h := &result.ClientHello{ServerName: hi.ServerName, LegacyVersion: !slices.Contains(hi.Extensions, 43)}
	for _, v := range hi.SupportedVersions {
		if !isGREASE(v) {
			h.Versions = append(h.Versions, esmtp.TLSVersion(v))
		}
	}
	var suites []uint16
	for _, id := range hi.CipherSuites {
		if isGREASE(id) || isSignal(id) {
			continue
		}
		suites = append(suites, id)
		h.CipherSuites = append(h.CipherSuites, SuiteName(id))
	}
	for _, g := range hi.SupportedCurves {
		if !isGREASE(uint16(g)) {
			h.Groups = append(h.Groups, groupName(g))
		}
	}
	h.ECDHE = offersECDHE(suites, hi.SupportedCurves)
	d.update(func(s *result.DeviceSession) { s.ClientHello = h })
	sni := "no SNI"
	if h.ServerName != "" {
		sni = "SNI " + h.ServerName
	}
	d.Transcript(result.TLSEvent, fmt.Sprintf("ClientHello: %s; cipher suites: %d (ECDHE: %s); %s",
		h.OfferedVersions(), len(h.CipherSuites), yesNo(h.ECDHE), sni))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Command records the hello, AUTH attempts, STARTTLS and QUIT, and
// refuses every command after a TLS 1.0 or 1.1 handshake the listener
// does not allow.
func (d *device) Command(cmd smtpd.Command) []string {
	d.command, d.verb = cmd.Line, cmd.Verb
	if d.legacy != "" {
		d.reject(parseReply([]string{legacyTLSReply}))
		d.ended("the listener refused TLS " + d.legacy + " with 421 4.7.66, as Exchange Online's default endpoints do")
		return []string{legacyTLSReply}
	}
	switch cmd.Verb {
	case "EHLO", "HELO":
		d.update(func(s *result.DeviceSession) {
			s.Helo = strings.TrimSpace(cmd.Arg)
			s.UsedHELO = cmd.Verb == "HELO"
		})
	case "AUTH":
		mech, _, _ := strings.Cut(cmd.Arg, " ")
		d.update(func(s *result.DeviceSession) {
			s.Auth = append(s.Auth, result.AuthAttempt{Mechanism: strings.ToUpper(mech), AfterTLS: d.c.Encrypted()})
			d.authIndex = len(s.Auth) - 1
		})
	case "QUIT":
		d.ended("QUIT")
	case "STARTTLS":
		d.update(func(s *result.DeviceSession) { s.StartTLS = true })
	}
	return nil
}

// Reply records the final reply to an AUTH attempt, and each negative
// reply as a rejection of the command it answers.
func (d *device) Reply(reply []string) {
	last := reply[len(reply)-1]
	parsed := parseReply(reply)
	if d.authIndex >= 0 && !strings.HasPrefix(last, "334") {
		i := d.authIndex
		d.update(func(s *result.DeviceSession) { s.Auth[i].Reply = parsed })
		d.authIndex = -1
	}
	if parsed.Code >= 400 {
		// A reply after the session ended (go-smtp's 421 on an idle
		// timeout) answers no command of the device.
		d.mu.Lock()
		ending := d.rec.End != ""
		d.mu.Unlock()
		if d.verb != "QUIT" && !ending {
			d.reject(parsed)
		}
	}
}

// parseReply reads a reply sent. go-smtp's replies, as rewritten, are
// well-formed; a reply that were not would be recorded as its last
// line's code alone.
func parseReply(reply []string) esmtp.Reply {
	parsed, err := esmtp.ParseReply(reply)
	if err != nil {
		last := reply[len(reply)-1]
		code, _, _, _ := esmtp.ParseReplyLine([]byte(last))
		parsed = esmtp.Reply{Code: code, Lines: []string{last}}
	}
	return parsed
}

// reject records a negative reply to the last command.
func (d *device) reject(reply esmtp.Reply) {
	command := d.command
	d.update(func(s *result.DeviceSession) {
		s.Rejections = append(s.Rejections, result.Rejection{Command: command, Reply: reply})
	})
}

// Authenticate accepts any credentials: the listener tests the device,
// not its password. Only the user name was recorded (EventAuthUser).
func (d *device) Authenticate(smtpd.Credentials) error { return nil }

// Mail records the sender of every MAIL command, accepted or not.
func (d *device) Mail(from string) error {
	d.update(func(rec *result.DeviceSession) { rec.MailFrom = &from })
	return nil
}

// Rcpt accepts every recipient: what a device may send to is the tenant's
// business, not the device's.
func (d *device) Rcpt(to string) error {
	d.update(func(rec *result.DeviceSession) { rec.Recipients = append(rec.Recipients, to) })
	return nil
}

// Data records the message's header fields and size, and its text only
// with KeepMessage. Nothing is ever delivered.
func (d *device) Data(tx smtpd.Transaction, r io.Reader) error {
	counter := &countingReader{r: r}
	var kept bytes.Buffer
	src := io.Reader(counter)
	if d.l.cfg.KeepMessage {
		src = io.TeeReader(counter, &kept)
	}
	br := bufio.NewReader(src)
	headers := readHeaders(br)
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	m := result.Message{From: tx.From, To: tx.To, Size: counter.n, Headers: headers}
	if d.l.cfg.KeepMessage {
		m.Body = kept.Bytes()
	}
	d.update(func(rec *result.DeviceSession) { rec.Messages = append(rec.Messages, m) })
	return nil
}

// MessageID is the local part of the queue ID of the session's next
// message: the session's number and the count of messages before it.
func (d *device) MessageID() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return fmt.Sprintf("%d.%d", d.rec.Number, len(d.rec.Messages))
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

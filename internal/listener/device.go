package listener

import (
	"bufio"
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

// budgetReply ends a session whose record reached its budget (RFC 5321
// section 3.8 lets a server close with 421 at any time; RFC 3463 4.7.0
// is "other or undefined security status").
const budgetReply = "421 4.7.0 Too much in one session, closing transmission channel"

// busyReply refuses a session while another device's session is the one
// tested (Config.OneSession): 4.3.2 is "system not accepting network
// messages" (RFC 3463).
const busyReply = "421 4.3.2 Another device session is being tested, closing transmission channel"

// maxHeaderBytes bounds the header section kept of a message; a scan's
// header is a few hundred octets.
const maxHeaderBytes = 64 << 10

// recordOverhead is what each transcript line, rejection, recipient,
// header field or message costs the record besides its text: the
// structures that hold it, and its share of a report.
const recordOverhead = 64

// closingLines is how many transcript lines a session may still add
// once its record reached the budget: the 421 and the notes of its end.
const closingLines = 8

// device is the smtpd.Handler of one device connection: it accepts any
// credentials and every recipient, and records what the device does in
// a result.DeviceSession, which OnSession gets once the connection has
// ended. Data of a BDAT transfer runs on a goroutine of its own, which
// is why the record has a mutex. What the record keeps is charged to a
// budget (Config.RecordBudget).
type device struct {
	l     *Listener
	c     *smtpd.Conn
	start time.Time

	mu  sync.Mutex
	rec *result.DeviceSession
	// used is what the record holds, charged against the budget; over
	// is set once it reached it, and extra counts the lines kept since.
	used  int
	over  bool
	extra int

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
			Number:       c.Number(),
			Listen:       l.Addr(),
			Hostname:     l.cfg.Hostname,
			RemoteAddr:   c.RemoteAddr().String(),
			ClientIP:     c.ClientIP(),
			Started:      now,
			RecordBudget: l.cfg.RecordBudget,
		},
	}
	d.Transcript(result.Note, "connection from "+d.rec.RemoteAddr+" to "+c.LocalAddr().String())
	switch {
	case c.Refusal() != nil:
		d.refuse(fmt.Sprintf("too many sessions at once: the listener serves %d at a time", l.cfg.MaxSessions))
	case l.cfg.OneSession && l.taken():
		c.Refuse([]string{busyReply})
		d.refuse("another device session was being tested (one session at a time)")
	}
	if l.cfg.OnConnect != nil {
		l.cfg.OnConnect(d.rec.Number, d.rec.RemoteAddr)
	}
	return d
}

// refuse records why the listener turned the session away.
func (d *device) refuse(why string) {
	d.update(func(s *result.DeviceSession) {
		s.Refused = why
		if s.End == "" {
			s.End = "the listener refused the session with 421 4.3.2: " + why
			s.EndedBy = result.EndedByListener
		}
	})
}

// update changes the record under its lock.
func (d *device) update(f func(s *result.DeviceSession)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d.rec)
}

// charge adds n octets to what the record holds and reports whether they
// fit the budget; once they do not, the budget is reached. It is called
// with the lock held.
func (d *device) charge(n int) bool {
	if d.over {
		return false
	}
	if d.used+n > d.l.cfg.RecordBudget {
		d.over = true
		d.rec.BudgetReached = true
		return false
	}
	d.used += n
	return true
}

// Transcript adds a transcript line, within the record's budget: past
// it, a few closing lines are kept and the rest counted.
func (d *device) Transcript(dir result.Direction, text string) {
	offset := d.l.cfg.Now().Sub(d.start)
	d.update(func(s *result.DeviceSession) {
		if !d.charge(len(text) + recordOverhead) {
			if d.extra >= closingLines {
				s.OmittedLines++
				return
			}
			d.extra++
		}
		s.Transcript = append(s.Transcript, result.TranscriptLine{Offset: offset, Direction: dir, Text: text})
	})
}

// ended records why the session ended and who ended it, unless that is
// already known.
func (d *device) ended(why, by string) {
	d.update(func(s *result.DeviceSession) {
		if s.End == "" {
			s.End = why
			s.EndedBy = by
		}
	})
}

// Event records TLS, the ClientHello, credentials sent in clear and the
// end of the session.
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
		d.update(func(s *result.DeviceSession) {
			s.HandshakeError = e.Err.Error()
			if e.Alert != nil {
				s.HandshakeAlert = e.Alert.Name()
			}
		})
		d.Transcript(result.TLSEvent, "handshake failed: "+e.Err.Error())
		d.ended("TLS handshake failed", result.EndedByListener)
	case smtpd.EventImplicitTLS:
		if !d.l.take(d) {
			d.refuse("another device session was being tested (one session at a time)")
		}
		d.update(func(s *result.DeviceSession) { s.ImplicitTLS = true })
		d.Transcript(result.TLSEvent, "the device began a TLS handshake instead of SMTP (implicit TLS, as on port 465)")
		d.ended("the device expected implicit TLS (port 465 style); smtp.office365.com offers only STARTTLS", result.EndedByDevice)
	case smtpd.EventDropped:
		d.Transcript(result.Note, fmt.Sprintf("dropped %d octets the device sent after STARTTLS in plaintext", e.Octets))
	case smtpd.EventAuthUser:
		d.update(func(s *result.DeviceSession) {
			if n := len(s.Auth); n > 0 {
				s.Auth[n-1].User = e.User
			}
		})
	case smtpd.EventCredentialsInClear:
		d.update(func(s *result.DeviceSession) {
			if n := len(s.Auth); n > 0 {
				a := &s.Auth[n-1]
				a.InClear = true
				if a.User == "" && e.User != "" && d.charge(len(e.User)) {
					a.User = e.User
				}
			}
		})
	case smtpd.EventInputEnded:
		if e.InMessage {
			d.update(func(s *result.DeviceSession) {
				if s.End == "" {
					s.EndedInMessage, s.PartialOctets = true, int64(e.Octets)
				}
			})
		}
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
		d.ended("the listener stopped", result.EndedByListener)
	case errors.Is(err, smtpd.ErrSessionEnded):
		d.ended("the listener ended the session with 421", result.EndedByListener)
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		d.ended(fmt.Sprintf("idle timeout: the device sent nothing for %s", d.l.cfg.IdleTimeout), result.EndedByTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		d.ended("the device closed the connection", result.EndedByDevice)
	default:
		d.ended(err.Error(), result.EndedByDevice)
	}
}

// closed finishes the record and hands it on.
func (d *device) closed() {
	d.ended("the listener closed the connection", result.EndedByListener)
	end := d.l.cfg.Now()
	d.mu.Lock()
	d.rec.Duration = end.Sub(d.start)
	rec := d.rec
	d.mu.Unlock()
	d.Transcript(result.Note, "connection closed: "+rec.End)
	if rec.OmittedLines > 0 {
		d.update(func(s *result.DeviceSession) {
			// Outside the budget: the record must say what it left out.
			s.Transcript = append(s.Transcript, result.TranscriptLine{Offset: end.Sub(d.start), Direction: result.Note,
				Text: fmt.Sprintf("this record reached its budget of %d KiB: %d transcript lines were not kept",
					d.l.cfg.RecordBudget>>10, s.OmittedLines)})
		})
	}
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
	count := len(h.CipherSuites)
	h.CipherSuites, h.Groups = capList(h.CipherSuites), capList(h.Groups)
	size := len(h.ServerName) + recordOverhead
	for _, l := range [][]string{h.Versions, h.CipherSuites, h.Groups} {
		for _, v := range l {
			size += len(v) + 4
		}
	}
	d.update(func(s *result.DeviceSession) {
		d.charge(size)
		s.ClientHello = h
	})
	sni := "no SNI"
	if h.ServerName != "" {
		sni = "SNI " + h.ServerName
	}
	d.Transcript(result.TLSEvent, fmt.Sprintf("ClientHello: %s; cipher suites: %d (ECDHE: %s); %s",
		h.OfferedVersions(), count, yesNo(h.ECDHE), sni))
}

// maxOffered bounds the cipher suites and the groups a ClientHello's
// record lists: clients offer a few dozen, but a ClientHello of 64 KiB
// may carry 32,000.
const maxOffered = 128

// capList keeps the first maxOffered names and counts the rest.
func capList(names []string) []string {
	if len(names) <= maxOffered {
		return names
	}
	return append(names[:maxOffered:maxOffered], fmt.Sprintf("(%d more)", len(names)-maxOffered))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// steps name the commands that advance a submission, for LastStep.
var steps = map[string]string{
	"EHLO": "EHLO", "HELO": "HELO", "STARTTLS": "STARTTLS", "AUTH": "AUTH",
	"MAIL": "MAIL FROM", "RCPT": "RCPT TO", "DATA": "DATA", "BDAT": "BDAT",
}

// Command records the hello, AUTH attempts, STARTTLS and QUIT; it ends a
// session whose record reached its budget, refuses a session while
// another is the one tested (OneSession), and refuses every command
// after a TLS 1.0 or 1.1 handshake the listener does not allow.
func (d *device) Command(cmd smtpd.Command) []string {
	d.command, d.verb = cmd.Line, cmd.Verb
	d.mu.Lock()
	over := d.over
	d.mu.Unlock()
	if over {
		// Outside the budget: the record must say why the session ended.
		d.update(func(s *result.DeviceSession) {
			s.Rejections = append(s.Rejections, result.Rejection{Command: cmd.Line, Reply: parseReply([]string{budgetReply})})
		})
		d.ended(fmt.Sprintf("the listener ended the session with 421 4.7.0: its record reached the budget of %d KiB for one session",
			d.l.cfg.RecordBudget>>10), result.EndedByListener)
		return []string{budgetReply}
	}
	if d.legacy != "" {
		d.reject(parseReply([]string{legacyTLSReply}))
		d.ended("the listener refused TLS "+d.legacy+" with 421 4.7.66, as Exchange Online's default endpoints do", result.EndedByListener)
		return []string{legacyTLSReply}
	}
	if cmd.Verb == "EHLO" || cmd.Verb == "HELO" {
		d.update(func(s *result.DeviceSession) { s.SentHello = true })
		if !d.l.take(d) {
			d.refuse("another device session was being tested (one session at a time)")
			return []string{busyReply}
		}
	}
	if step, ok := steps[cmd.Verb]; ok {
		d.update(func(s *result.DeviceSession) { s.LastStep = step })
	}
	switch {
	case cmd.Verb == "EHLO" || cmd.Verb == "HELO":
		d.update(func(s *result.DeviceSession) {
			s.Helo = strings.TrimSpace(cmd.Arg)
			s.UsedHELO = cmd.Verb == "HELO"
		})
	case cmd.Mechanism != "" || cmd.Verb == "AUTH":
		d.update(func(s *result.DeviceSession) {
			if d.charge(len(cmd.Mechanism) + recordOverhead) {
				s.Auth = append(s.Auth, result.AuthAttempt{Mechanism: cmd.Mechanism, AfterTLS: d.c.Encrypted()})
				d.authIndex = len(s.Auth) - 1
			}
			s.LastStep = "AUTH"
		})
	case cmd.Verb == "QUIT":
		d.ended("QUIT", result.EndedByDevice)
	case cmd.Verb == "STARTTLS":
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

// reject records a negative reply to the last command, within the
// record's budget.
func (d *device) reject(reply esmtp.Reply) {
	command := d.command
	size := len(command) + recordOverhead
	for _, l := range reply.Lines {
		size += len(l)
	}
	d.update(func(s *result.DeviceSession) {
		if d.charge(size) {
			s.Rejections = append(s.Rejections, result.Rejection{Command: command, Reply: reply})
		}
	})
}

// Authenticate accepts any credentials: the listener tests the device,
// not its password. Only the user name was recorded (EventAuthUser).
func (d *device) Authenticate(smtpd.Credentials) error { return nil }

// Mail records the sender of every MAIL command, accepted or not.
func (d *device) Mail(from string) error {
	d.update(func(rec *result.DeviceSession) {
		if d.charge(len(from) + recordOverhead) {
			rec.MailFrom = &from
		}
	})
	return nil
}

// Rcpt accepts every recipient: what a device may send to is the tenant's
// business, not the device's.
func (d *device) Rcpt(to string) error {
	d.update(func(rec *result.DeviceSession) {
		if d.charge(len(to) + recordOverhead) {
			rec.Recipients = append(rec.Recipients, to)
		}
	})
	return nil
}

// Data records the message's envelope, header fields and size, within
// the record's budget, and with KeepDir writes its text to a file as it
// arrives. Nothing is ever delivered, and the text is never held in
// memory.
func (d *device) Data(tx smtpd.Transaction, r io.Reader) error {
	d.mu.Lock()
	number, index := d.rec.Number, len(d.rec.Messages)+1
	room := min(maxHeaderBytes, max(d.l.cfg.RecordBudget-d.used, 0))
	d.mu.Unlock()

	counter := &countingReader{r: r}
	src := io.Reader(counter)
	var kept *keptFile
	var keepErr error
	if d.l.cfg.KeepDir != "" {
		if kept, keepErr = d.l.createKept(number, index); kept != nil {
			src = io.TeeReader(counter, kept)
		}
	}
	br := bufio.NewReader(src)
	headers, cut := readHeaders(br, room)
	if _, err := io.Copy(io.Discard, br); err != nil {
		if kept != nil {
			kept.abort()
		}
		return err
	}
	m := result.Message{From: tx.From, To: tx.To, Size: counter.n, Headers: headers, HeadersCut: cut}
	if kept != nil {
		keepErr = kept.finish()
		if keepErr == nil {
			m.File = kept.path
		}
	}
	if keepErr != nil {
		m.KeepError = keepErr.Error()
	}
	size := recordOverhead + len(m.From) + len(m.File) + len(m.KeepError)
	for _, to := range m.To {
		size += len(to) + recordOverhead
	}
	for _, h := range m.Headers {
		size += len(h.Name) + len(h.Value) + recordOverhead
	}
	d.update(func(rec *result.DeviceSession) {
		if !d.charge(size) {
			// The envelope and the size are kept in any case, the header
			// fields only within the budget.
			m.Headers, m.HeadersCut = nil, true
		}
		rec.Messages = append(rec.Messages, m)
		rec.LastStep = "the message"
	})
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
// it has, after limit octets (cut is then true) or at a line that is not
// a header field.
func readHeaders(br *bufio.Reader, limit int) (out []result.Header, cut bool) {
	read := 0
	for {
		if read >= limit {
			return out, true
		}
		line, err := br.ReadString('\n')
		read += len(line)
		text := strings.TrimRight(line, "\r\n")
		if text == "" {
			return out, false
		}
		if read > limit {
			return out, true
		}
		if (text[0] == ' ' || text[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += " " + strings.TrimSpace(text)
		} else if name, value, ok := strings.Cut(text, ":"); ok && name != "" && !strings.ContainsAny(name, " \t") {
			out = append(out, result.Header{Name: name, Value: strings.TrimSpace(value)})
		} else {
			return out, false
		}
		if err != nil {
			return out, false
		}
	}
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

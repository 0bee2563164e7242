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
	"github.com/smtpdiag/smtpdiag/internal/msreply"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// The front layer sits between each TCP connection and go-smtp, as in
// internal/simulator: go-smtp hard-codes its reply texts and runs STARTTLS
// on its own tls.Conn, below which nothing can see the plaintext. So the
// front layer answers STARTTLS and runs the handshake itself (recording
// the ClientHello on the way), hands go-smtp the decrypted stream, rewrites
// every reply into Exchange Online's wording, and writes the transcript.
//
// To tell commands from message text and SASL responses it follows
// go-smtp's input state from the replies going out: after a 354 the device
// sends message text up to <CRLF>.<CRLF>, after a 334 one SASL response,
// after "BDAT n" n octets. It hands go-smtp at most one line per Read, so
// that go-smtp's buffered reader never holds input not yet classified.

// readBufferSize holds the longest line go-smtp accepts.
const readBufferSize = 2 * maxLineLength

// legacyTLSReply is Exchange Online's answer on its default endpoints to
// a client that negotiated TLS 1.0 or 1.1 (m365-facts.md section 2;
// UNVERIFIED: the text comes from a third-party report).
const legacyTLSReply = "421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. Visit https://aka.ms/smtp_auth_tls"

// inputMode is what the device's next bytes are.
type inputMode int

const (
	inputCommand inputMode = iota // a command line
	inputSASL                     // one line answering a 334 challenge (RFC 4954 section 4)
	inputData                     // message text after 354 (RFC 5321 section 4.1.1.4)
	inputChunk                    // the octets of a BDAT chunk (RFC 3030 section 2)
)

// frontConn is one device connection as go-smtp sees it. Read, Write and
// Close are called by go-smtp's goroutine for the connection (and Data of
// a BDAT transfer from one more, which is why the record has a mutex);
// Listener.Close touches only raw.
type frontConn struct {
	raw   net.Conn
	l     *Listener
	start time.Time

	mu  sync.Mutex
	rec *result.DeviceSession

	// transport is raw, or the tls.Conn above it once TLS is up; in reads
	// from transport.
	transport net.Conn
	in        *bufio.Reader
	tlsState  *tls.ConnectionState
	// rejectLegacy is set after a TLS 1.0 or 1.1 handshake when the
	// listener does not allow legacy TLS: the next command gets 421.
	rejectLegacy bool

	// Read side.
	started       bool // the device has sent something
	pending       []byte
	mode          inputMode
	chunkLeft     int64
	midLine       bool
	dataLineStart bool
	messageOctets int
	// needHello is set after STARTTLS: RFC 3207 section 4.2 has the
	// server forget what it learned before TLS, so EHLO must come first.
	needHello bool
	lastWord  string
	// command is the device's last command line, masked, for the
	// rejections it gets, and commandVerb its verb; authIndex is the
	// AUTH attempt awaiting its final reply, -1 when none.
	command     string
	commandVerb string
	authIndex   int

	// Write side.
	replies  msreply.ReplyBuffer
	rewriter msreply.Rewriter

	closeOnce sync.Once
}

func newFrontConn(raw net.Conn, l *Listener, number int) *frontConn {
	now := l.cfg.Now()
	ip := raw.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	c := &frontConn{
		raw:       raw,
		l:         l,
		start:     now,
		transport: raw,
		in:        bufio.NewReaderSize(raw, readBufferSize),
		authIndex: -1,
		rec: &result.DeviceSession{
			Number:     number,
			Listen:     l.Addr(),
			Hostname:   l.cfg.Hostname,
			RemoteAddr: raw.RemoteAddr().String(),
			ClientIP:   ip,
			Started:    now,
		},
	}
	c.rewriter = msreply.Rewriter{
		Hostname:  l.cfg.Hostname,
		ClientIP:  ip,
		Now:       l.cfg.Now,
		MessageID: c.messageID,
	}
	c.note(result.Note, "connection from "+c.rec.RemoteAddr+" to "+raw.LocalAddr().String())
	return c
}

// update changes the record under its lock.
func (c *frontConn) update(f func(s *result.DeviceSession)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.rec)
}

// note adds a transcript line.
func (c *frontConn) note(dir result.Direction, text string) {
	offset := c.l.cfg.Now().Sub(c.start)
	c.update(func(s *result.DeviceSession) {
		s.Transcript = append(s.Transcript, result.TranscriptLine{Offset: offset, Direction: dir, Text: text})
	})
}

// ended records why the session ended, unless that is already known.
func (c *frontConn) ended(why string) {
	c.update(func(s *result.DeviceSession) {
		if s.End == "" {
			s.End = why
		}
	})
}

// endedBy records the read error that ended the session.
func (c *frontConn) endedBy(err error) {
	var ne net.Error
	switch {
	case c.l.stopping.Load():
		c.ended("the listener stopped")
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		c.ended(fmt.Sprintf("idle timeout: the device sent nothing for %s", c.l.cfg.IdleTimeout))
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		c.ended("the device closed the connection")
	default:
		c.ended(err.Error())
	}
}

// encrypted reports whether TLS is up on the connection.
func (c *frontConn) encrypted() bool { return c.tlsState != nil }

// Read gives go-smtp the device's input, at most one line at a time,
// after answering STARTTLS itself.
func (c *frontConn) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if err := c.fill(); err != nil {
			c.endedBy(err)
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// fill reads the device's next line (or chunk) into pending, unless the
// front layer answers it itself.
func (c *frontConn) fill() error {
	if !c.started {
		first, err := c.in.Peek(1)
		if err != nil {
			return err
		}
		c.started = true
		// 0x16 is a TLS handshake record (RFC 8446 section 5.1): the
		// device expects TLS from the first byte, not the greeting.
		if first[0] == 0x16 {
			c.implicitTLS()
			return io.EOF
		}
	}
	if c.mode == inputChunk {
		buf := make([]byte, min(c.chunkLeft, 32<<10))
		n, err := c.in.Read(buf)
		c.chunkLeft -= int64(n)
		c.messageOctets += n
		if c.chunkLeft == 0 {
			c.mode = inputCommand
			c.note(result.Client, fmt.Sprintf("<%d octets of chunk data>", c.messageOctets))
		}
		c.pending = buf[:n]
		if n > 0 {
			return nil
		}
		return err
	}

	line, err := c.in.ReadSlice('\n')
	if err != nil {
		if len(line) == 0 {
			return err
		}
		// A line longer than the buffer, or the last bytes before the
		// connection closed: pass them on; go-smtp rejects what it must.
		c.pending = bytes.Clone(line)
		c.midLine = true
		c.dataLineStart = false
		if c.mode == inputData {
			c.messageOctets += len(line)
		}
		return nil
	}
	line = bytes.Clone(line)
	continued := c.midLine
	c.midLine = false

	switch c.mode {
	case inputData:
		c.messageOctets += len(line)
		if c.dataLineStart && string(line) == ".\r\n" {
			c.mode = inputCommand
			c.note(result.Client, fmt.Sprintf("<%d octets of message text>", c.messageOctets))
		}
		c.dataLineStart = bytes.HasSuffix(line, []byte("\r\n"))
	case inputSASL:
		c.mode = inputCommand
		// A SASL response carries the user name, the password or the
		// token; none of it is written down.
		c.note(result.Client, "****")
	case inputCommand:
		if !continued {
			handled, err := c.handleCommand(string(line))
			if handled || err != nil {
				return err
			}
		}
	}
	c.pending = line
	return nil
}

// handleCommand looks at a command line before go-smtp does. It reports
// handled when the front layer answered the command itself.
func (c *frontConn) handleCommand(line string) (handled bool, err error) {
	verb, arg := msreply.ParseCommand(line)
	shown := maskCommand(verb, strings.TrimRight(line, "\r\n"))
	c.command, c.commandVerb = shown, verb
	c.note(result.Client, shown)
	c.lastWord, _, _ = strings.Cut(strings.TrimSpace(line), " ")

	if c.rejectLegacy {
		// go-smtp ends the session on io.EOF (and only on exactly that)
		// without a reply of its own.
		_ = c.send([]string{legacyTLSReply})
		c.ended("the listener refused TLS " + c.rec.TLS.Version + " with 421 4.7.66, as Exchange Online's default endpoints do")
		return true, io.EOF
	}

	var chunk int64
	switch verb {
	case "EHLO", "HELO":
		c.update(func(s *result.DeviceSession) {
			s.Helo = strings.TrimSpace(arg)
			s.UsedHELO = verb == "HELO"
		})
	case "AUTH":
		mech, _, _ := strings.Cut(arg, " ")
		c.update(func(s *result.DeviceSession) {
			s.Auth = append(s.Auth, result.AuthAttempt{Mechanism: strings.ToUpper(mech), AfterTLS: c.encrypted()})
			c.authIndex = len(s.Auth) - 1
		})
	case "QUIT":
		c.ended("QUIT")
	case "BDAT":
		chunk, _ = msreply.BDATChunkSize(arg)
	}

	if c.needHello && !msreply.AllowedBeforeHello(verb) {
		if chunk > 0 {
			// RFC 3030 section 2: the chunk follows its command even
			// when the command is refused.
			if _, err := c.in.Discard(int(chunk)); err != nil {
				return true, err
			}
		}
		return true, c.send([]string{msreply.SendHelloFirst})
	}
	if chunk > 0 {
		c.mode = inputChunk
		c.chunkLeft = chunk
		c.messageOctets = 0
	}
	if verb == "STARTTLS" {
		c.update(func(s *result.DeviceSession) { s.StartTLS = true })
		return true, c.startTLS()
	}
	return false, nil
}

// maskCommand hides an AUTH command's initial response, which carries
// credentials (RFC 4954 section 4).
func maskCommand(verb, line string) string {
	if verb == "AUTH" {
		if f := strings.Fields(line); len(f) > 2 {
			return f[0] + " " + f[1] + " ****"
		}
	}
	return line
}

// startTLS answers STARTTLS and runs the handshake (RFC 3207 section 4).
func (c *frontConn) startTLS() error {
	if c.encrypted() {
		return c.send([]string{msreply.TLSAlreadyActive})
	}
	if n := c.in.Buffered(); n > 0 {
		// Commands pipelined after STARTTLS arrived in plaintext; RFC
		// 3207 section 4.2 has the server discard them.
		c.in.Discard(n)
		c.note(result.Note, fmt.Sprintf("dropped %d octets the device sent after STARTTLS in plaintext", n))
	}
	if err := c.send([]string{msreply.ReadyToStartTLS}); err != nil {
		return err
	}
	if err := c.handshake(); err != nil {
		c.ended("TLS handshake failed")
		return io.EOF
	}
	c.needHello = true
	return nil
}

// handshake makes transport a TLS server connection, recording the
// ClientHello first. A failed handshake closes the connection.
func (c *frontConn) handshake() error {
	cfg := c.l.tlsConfig.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c.recordHello(hello)
		return nil, nil
	}
	conn := tls.Server(c.raw, cfg)
	c.raw.SetDeadline(time.Now().Add(handshakeTimeout))
	err := conn.Handshake()
	c.raw.SetDeadline(time.Time{})
	if err != nil {
		c.update(func(s *result.DeviceSession) { s.HandshakeError = err.Error() })
		c.note(result.TLSEvent, "handshake failed: "+err.Error())
		c.raw.Close()
		return err
	}
	state := conn.ConnectionState()
	c.tlsState = &state
	c.transport = conn
	c.in = bufio.NewReaderSize(conn, readBufferSize)
	session := &result.DeviceTLS{
		Version:     versionName(state.Version),
		CipherSuite: SuiteName(state.CipherSuite),
		ServerName:  state.ServerName,
	}
	c.update(func(s *result.DeviceSession) { s.TLS = session })
	c.note(result.TLSEvent, fmt.Sprintf("established TLS %s, %s", session.Version, session.CipherSuite))
	if state.Version < tls.VersionTLS12 && !c.l.cfg.AllowLegacyTLS {
		c.rejectLegacy = true
	}
	return nil
}

// recordHello keeps what the device offered.
func (c *frontConn) recordHello(hi *tls.ClientHelloInfo) {
	// 43 is the supported_versions extension (RFC 8446 section 4.2.1).
	h := &result.ClientHello{ServerName: hi.ServerName, LegacyVersion: !slices.Contains(hi.Extensions, 43)}
	for _, v := range hi.SupportedVersions {
		if !isGREASE(v) {
			h.Versions = append(h.Versions, versionName(v))
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
	c.update(func(s *result.DeviceSession) { s.ClientHello = h })
	sni := "no SNI"
	if h.ServerName != "" {
		sni = "SNI " + h.ServerName
	}
	c.note(result.TLSEvent, fmt.Sprintf("ClientHello: %s; cipher suites: %d (ECDHE: %s); %s",
		h.OfferedVersions(), len(h.CipherSuites), yesNo(h.ECDHE), sni))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// errHelloRecorded stops a handshake once the ClientHello is recorded.
var errHelloRecorded = errors.New("ClientHello recorded")

// implicitTLS handles a device that began a TLS handshake instead of
// reading the greeting (a client set up for implicit TLS, RFC 8314,
// usually port 465). It has already read the plaintext greeting as a
// broken TLS record, so no handshake can succeed; the listener reads the
// ClientHello it sent, to record the offer, and ends the session.
func (c *frontConn) implicitTLS() {
	c.update(func(s *result.DeviceSession) { s.ImplicitTLS = true })
	c.note(result.TLSEvent, "the device began a TLS handshake instead of SMTP (implicit TLS, as on port 465)")
	cfg := c.l.tlsConfig.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c.recordHello(hello)
		return nil, errHelloRecorded
	}
	c.raw.SetDeadline(time.Now().Add(5 * time.Second))
	_ = tls.Server(&replayConn{Conn: c.raw, r: c.in}, cfg).Handshake()
	c.ended("the device expected implicit TLS (port 465 style); smtp.office365.com offers only STARTTLS")
}

// replayConn reads what is buffered (and then the connection) and drops
// what is written, so that a ClientHello can be parsed without answering.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *replayConn) Write(p []byte) (int, error) { return len(p), nil }

// Write takes go-smtp's reply lines, rewrites each complete reply into
// Exchange Online's wording and sends it.
func (c *frontConn) Write(b []byte) (int, error) {
	if err := c.replies.Add(b, func(reply []string) error { return c.send(c.rewrite(reply)) }); err != nil {
		return 0, err
	}
	return len(b), nil
}

// send writes a reply, records it, and notes what the device sends next.
func (c *frontConn) send(reply []string) error {
	var b strings.Builder
	for _, line := range reply {
		b.WriteString(line)
		b.WriteString("\r\n")
		c.note(result.Server, line)
	}
	_, err := io.WriteString(c.transport, b.String())

	last := reply[len(reply)-1]
	switch {
	case strings.HasPrefix(last, "354"):
		c.mode = inputData
		c.dataLineStart = true
		c.messageOctets = 0
	case strings.HasPrefix(last, "334"):
		c.mode = inputSASL
	}
	// go-smtp's replies, as rewritten, are well-formed; a reply that were
	// not would be recorded as its first line's code alone.
	parsed, perr := esmtp.ParseReply(reply)
	if perr != nil {
		parsed = esmtp.Reply{Code: replyCode(last), Lines: []string{last}}
	}
	if c.authIndex >= 0 && !strings.HasPrefix(last, "334") {
		i := c.authIndex
		c.update(func(s *result.DeviceSession) { s.Auth[i].Reply = parsed })
		c.authIndex = -1
	}
	if parsed.Code >= 400 {
		// A reply after the session ended (go-smtp's 421 on an idle
		// timeout) answers no command of the device.
		c.mu.Lock()
		ending := c.rec.End != ""
		c.mu.Unlock()
		if c.commandVerb != "QUIT" && !ending {
			command := c.command
			c.update(func(s *result.DeviceSession) {
				s.Rejections = append(s.Rejections, result.Rejection{Command: command, Reply: parsed})
			})
		}
	}
	return err
}

// replyCode reads the basic code at the start of a reply line, 0 when
// there is none.
func replyCode(line string) int {
	code, _, _, err := esmtp.ParseReplyLine([]byte(line))
	if err != nil {
		return 0
	}
	return code
}

// rewrite turns one of go-smtp's replies into the reply Exchange Online
// gives in its place; a reply accepting EHLO or HELO ends the wait for
// the hello that must follow STARTTLS.
func (c *frontConn) rewrite(reply []string) []string {
	out, hello := c.rewriter.Rewrite(reply, c.encrypted(), c.lastWord)
	if hello {
		c.needHello = false
	}
	return out
}

// messageID is the local part of the queue ID of the session's next
// message: the session's number and the count of messages before it.
func (c *frontConn) messageID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%d.%d", c.rec.Number, len(c.rec.Messages))
}

// Close closes the TCP connection and hands the session's record on.
func (c *frontConn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		err = c.raw.Close()
		c.ended("the listener closed the connection")
		end := c.l.cfg.Now()
		c.mu.Lock()
		c.rec.Duration = end.Sub(c.start)
		rec := c.rec
		c.mu.Unlock()
		c.note(result.Note, "connection closed: "+rec.End)
		c.l.finished(c, rec)
	})
	return err
}

// LocalAddr returns the listener's side of the connection.
func (c *frontConn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr returns the device's address.
func (c *frontConn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the TCP connection's deadlines, which bound the TLS
// session above it too.
func (c *frontConn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline sets the TCP connection's read deadline.
func (c *frontConn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline sets the TCP connection's write deadline.
func (c *frontConn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

package smtpd

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/msreply"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// inputMode is what the client's next bytes are.
type inputMode int

const (
	inputCommand inputMode = iota // a command line
	inputSASL                     // one line answering a 334 challenge (RFC 4954 section 4)
	inputData                     // message text after 354, up to <CRLF>.<CRLF> (RFC 5321 section 4.1.1.4)
	inputChunk                    // the octets of a BDAT chunk (RFC 3030 section 2)
)

// Conn is one client connection: the net.Conn go-smtp reads and writes,
// and what a Handler may ask about it. Read, Write and Close are called
// only by go-smtp's goroutine for the connection; Server.Close touches
// only the TCP connection.
type Conn struct {
	raw      net.Conn
	srv      *Server
	ep       *Endpoint
	h        Handler
	number   int
	clientIP string

	// transport is raw, or the tls.Conn above it once TLS is up; in reads
	// from transport.
	transport net.Conn
	in        *bufio.Reader
	tlsState  *tls.ConnectionState
	tlsTried  bool  // implicit TLS: the handshake was attempted
	tlsErr    error // implicit TLS: the handshake failed

	// Read side.
	started       bool   // the client has sent something
	pending       []byte // the rest of the line go-smtp is reading
	mode          inputMode
	chunkLeft     int64
	midLine       bool // pending continues a line longer than the read buffer
	dataLineStart bool // in inputData: the next octet starts a line
	messageOctets int
	// needHello is set after STARTTLS: RFC 3207 section 4.2 has the
	// server forget what it learned before TLS, so the client must send
	// EHLO again before anything else.
	needHello bool
	// lastWord is the first word of the last command line as recorded
	// (masked where the line is), for the reply to an unknown command.
	lastWord string
	// auth follows the last AUTH command: until a line that is a
	// command, every client line is a SASL response and is masked.
	auth authState
	// refusal, when set, is sent in place of the greeting, and the
	// session ends (Config.MaxConnections, Refuse); counted is set while
	// the connection takes a place under MaxConnections.
	refusal []string
	counted bool
	// ended is set once the front ended the session with a 421.
	ended bool

	// Write side.
	replies  msreply.ReplyBuffer
	rewriter msreply.Rewriter

	closeOnce sync.Once
	// inputDone: EventInputEnded was reported.
	inputDone bool
}

func newConn(raw net.Conn, srv *Server, ep *Endpoint, number int) *Conn {
	ip := raw.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	c := &Conn{
		raw:       raw,
		srv:       srv,
		ep:        ep,
		number:    number,
		clientIP:  ip,
		transport: raw,
		in:        bufio.NewReaderSize(raw, readBufferSize),
	}
	c.rewriter = msreply.Rewriter{
		Hostname:  ep.Hostname,
		ClientIP:  ip,
		Now:       srv.cfg.Now,
		MessageID: func() string { return c.h.MessageID() },
	}
	return c
}

// Number counts the server's connections from 1, in the order they were
// accepted.
func (c *Conn) Number() int { return c.number }

// ClientIP is the client's address without the port.
func (c *Conn) ClientIP() string { return c.clientIP }

// Encrypted reports whether TLS is up on the connection.
func (c *Conn) Encrypted() bool { return c.tlsState != nil }

// TLSConnectionState is the state of the connection's TLS session, with
// the certificates the client presented (Endpoint.ClientAuth), and ok
// set once TLS is up; like go-smtp's Conn.TLSConnectionState. It is
// meant for a Handler's methods, which the connection's goroutine calls;
// the state is a copy, but its slices are shared and must not be changed.
func (c *Conn) TLSConnectionState() (state tls.ConnectionState, ok bool) {
	if c.tlsState == nil {
		return tls.ConnectionState{}, false
	}
	return *c.tlsState, true
}

// Refuse, called from Backend.Connect, turns the connection away: reply
// (a 421, RFC 5321 section 3.1) is sent in place of the greeting and the
// connection is closed. A connection beyond Config.MaxConnections is
// refused already.
func (c *Conn) Refuse(reply []string) {
	if c.refusal == nil {
		c.refusal = reply
	}
}

// Refusal is the reply that turns the connection away, nil when it is
// served.
func (c *Conn) Refusal() []string { return c.refusal }

// Read gives go-smtp the client's input, at most one line at a time,
// after answering STARTTLS itself.
func (c *Conn) Read(p []byte) (int, error) {
	if err := c.startImplicitTLS(); err != nil {
		return 0, io.EOF
	}
	if c.refusal != nil {
		if !c.ended {
			// go-smtp greets first; a client that sends before the
			// greeting still gets the refusal.
			c.ended = true
			c.send(c.refusal)
			c.inputEnd(Event{Kind: EventInputEnded, Err: ErrSessionEnded})
		}
		return 0, io.EOF
	}
	for len(c.pending) == 0 {
		if err := c.fill(); err != nil {
			ev := Event{Kind: EventInputEnded, Err: err}
			switch {
			case c.srv.stopping():
				ev.Err = ErrServerClosed
			case c.ended:
				ev.Err = ErrSessionEnded
			}
			if c.mode == inputData || c.mode == inputChunk {
				ev.InMessage, ev.Octets = true, c.messageOctets
			}
			c.inputEnd(ev)
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// fill reads the client's next line (or chunk) into pending, unless the
// front answers it itself.
func (c *Conn) fill() error {
	if !c.started && c.ep.DetectImplicitTLS {
		first, err := c.in.Peek(1)
		if err != nil {
			return err
		}
		c.started = true
		// 0x16 is a TLS handshake record (RFC 8446 section 5.1): the
		// client expects TLS from the first byte, not the greeting.
		if first[0] == 0x16 {
			c.detectedImplicitTLS()
			return io.EOF
		}
	}
	if c.mode == inputChunk {
		buf := make([]byte, min(c.chunkLeft, chunkReadSize))
		n, err := c.in.Read(buf)
		c.chunkLeft -= int64(n)
		c.messageOctets += n
		if c.chunkLeft == 0 {
			c.mode = inputCommand
			c.h.Transcript(result.Client, fmt.Sprintf("<%d octets of chunk data>", c.messageOctets))
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
		// connection closed: pass them on; go-smtp rejects what it must
		// (MaxLineLength).
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
		// The same end-of-data rule as go-smtp's reader: "." alone on a
		// line that follows a CRLF.
		if c.dataLineStart && string(line) == ".\r\n" {
			c.mode = inputCommand
			c.h.Transcript(result.Client, fmt.Sprintf("<%d octets of message text>", c.messageOctets))
		}
		c.dataLineStart = bytes.HasSuffix(line, []byte("\r\n"))
	case inputSASL:
		c.mode = inputCommand
		// A SASL response carries the user name, the password or the
		// token; none of it is written down.
		c.h.Transcript(result.Client, redact.Mask)
		c.credential(strings.TrimRight(string(line), "\r\n"))
	case inputCommand:
		if !continued {
			handled, err := c.command(string(line))
			if handled || err != nil {
				return err
			}
		}
	}
	c.pending = line
	return nil
}

// command looks at a command line before go-smtp does. It reports
// handled when the front answered the command itself.
//
// After an AUTH command, every line until one that is a command (its
// first word a verb go-smtp knows) is a SASL response (RFC 4954 section
// 4) and carries credentials: also when no exchange runs, because AUTH
// was refused (504 before STARTTLS) and the client sends its user name
// and password anyway, each of which go-smtp then refuses as an unknown
// command. Such a line is recorded and handed on as redact.Mask, and the
// reply echoing it names the mask. A first word is split at any white
// space, so that "auth<TAB>plain<TAB>response", which go-smtp cannot
// parse, is an AUTH command too.
func (c *Conn) command(line string) (handled bool, err error) {
	text := strings.TrimRight(line, "\r\n")
	verb, arg := msreply.ParseCommand(line)
	fields := strings.Fields(text)
	word := ""
	if len(fields) > 0 {
		word = strings.ToUpper(fields[0])
	}
	cmd := Command{Verb: verb, Arg: arg, Line: text}
	response := "" // credentials on this line
	switch {
	case word == "AUTH":
		c.auth = authState{active: true}
		if len(fields) > 1 {
			c.auth.mech = strings.ToUpper(fields[1])
		}
		cmd.Mechanism = c.auth.mech
		if len(fields) > 2 {
			response = fields[2]
			cmd.Line = fields[0] + " " + fields[1] + " " + redact.Mask
			cmd.Arg = fields[1] + " " + redact.Mask
		} else {
			cmd.Line = strings.Join(fields, " ")
		}
		if verb != "AUTH" {
			cmd.Arg = ""
		}
	case c.auth.active && !knownVerbs[word]:
		cmd = Command{Line: redact.Mask}
		response = text
	default:
		c.auth.active = false
	}
	c.h.Transcript(result.Client, cmd.Line)
	c.lastWord = ""
	if f := strings.Fields(cmd.Line); len(f) > 0 {
		c.lastWord = f[0]
	}

	refuse := c.h.Command(cmd)
	if response != "" {
		c.credential(response)
	}
	if refuse != nil {
		err := c.send(refuse)
		if replyCode(refuse[len(refuse)-1]) == 421 {
			c.ended = true
			// go-smtp ends the session on io.EOF (and only on exactly
			// that) without a reply of its own.
			return true, io.EOF
		}
		return true, err
	}

	var chunk int64
	if verb == "BDAT" {
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
		return true, c.startTLS()
	}
	return false, nil
}

// knownVerbs are the command verbs go-smtp answers (besides unknown
// ones): a line after AUTH whose first word is one of them is a command,
// not a SASL response.
var knownVerbs = map[string]bool{
	"HELO": true, "EHLO": true, "LHLO": true, "MAIL": true, "RCPT": true, "DATA": true, "BDAT": true,
	"RSET": true, "VRFY": true, "EXPN": true, "HELP": true, "NOOP": true, "QUIT": true, "AUTH": true,
	"STARTTLS": true, "SEND": true, "SOML": true, "SAML": true, "TURN": true,
}

// authState follows the SASL responses of the last AUTH command.
type authState struct {
	// active is set from an AUTH command until a line that is a command.
	active bool
	// mech is the mechanism AUTH named, upper-case.
	mech string
	// responses counts the responses sent for it, the initial response
	// included: LOGIN's first names the user, its second is the password.
	responses int
}

// credential notes one SASL response of the current AUTH; sent without
// TLS, it is reported as EventCredentialsInClear with the user name it
// names, if any.
func (c *Conn) credential(response string) {
	index := c.auth.responses
	c.auth.responses++
	// "*" cancels the exchange and "=" is an empty response (RFC 4954
	// section 4): neither carries anything.
	if c.Encrypted() || response == "*" || response == "=" || response == "" {
		return
	}
	c.h.Event(Event{Kind: EventCredentialsInClear, User: saslUser(c.auth.mech, response, index)})
}

// maxUserName bounds a user name read from credentials sent in clear.
const maxUserName = 320

// saslUser reads the user name from the index-th response (base64, RFC
// 4954 section 4) of a mechanism: PLAIN's authentication identity (RFC
// 4616 section 2), LOGIN's first response, XOAUTH2's user field, the
// CRAM-MD5 response's name (RFC 2195 section 2). It returns "" for a
// response that names none (LOGIN's second is the password) or that is
// not printable text, so that a secret is never taken for a name.
func saslUser(mech, response string, index int) string {
	raw, err := base64.StdEncoding.DecodeString(response)
	if err != nil {
		return ""
	}
	var user string
	switch mech {
	case "PLAIN":
		parts := strings.Split(string(raw), "\x00")
		if len(parts) != 3 {
			return ""
		}
		user = parts[1]
	case "LOGIN":
		if index != 0 {
			return ""
		}
		user = string(raw)
	case "XOAUTH2":
		user, _, _ = parseXOAUTH2(string(raw))
	case "CRAM-MD5":
		user, _, _ = strings.Cut(string(raw), " ")
	}
	if len(user) > maxUserName || !utf8.ValidString(user) {
		return ""
	}
	for _, r := range user {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return ""
		}
	}
	return user
}

// Write takes go-smtp's reply lines, rewrites each complete reply into
// Exchange Online's wording and sends it.
func (c *Conn) Write(b []byte) (int, error) {
	if err := c.startImplicitTLS(); err != nil {
		return 0, err
	}
	if c.refusal != nil || c.ended {
		// The refusal goes in place of the greeting (Read sends it), and
		// nothing follows a 421.
		if !c.ended && c.refusal != nil {
			c.ended = true
			c.send(c.refusal)
			c.inputEnd(Event{Kind: EventInputEnded, Err: ErrSessionEnded})
		}
		return len(b), nil
	}
	if err := c.replies.Add(b, func(reply []string) error { return c.send(c.rewrite(reply)) }); err != nil {
		return 0, err
	}
	return len(b), nil
}

// send writes a reply, records it, and notes what the client sends next.
func (c *Conn) send(reply []string) error {
	var b strings.Builder
	for _, line := range reply {
		b.WriteString(line)
		b.WriteString("\r\n")
		c.h.Transcript(result.Server, line)
	}
	_, err := io.WriteString(c.transport, b.String())
	switch last := reply[len(reply)-1]; {
	case strings.HasPrefix(last, "354"):
		c.mode = inputData
		c.dataLineStart = true
		c.messageOctets = 0
	case strings.HasPrefix(last, "334"):
		c.mode = inputSASL
	}
	c.h.Reply(reply)
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
func (c *Conn) rewrite(reply []string) []string {
	out, hello := c.rewriter.Rewrite(reply, c.Encrypted(), c.lastWord)
	if hello {
		c.needHello = false
	}
	return out
}

// Close closes the TCP connection and reports EventClosed. A TLS
// session above it is ended first with a close_notify alert (RFC 8446
// section 6.1; RFC 5246 section 7.2.1), so that the client can tell the
// end of the session, after 221 for instance, from a truncation.
func (c *Conn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		if c.ended {
			c.linger()
		}
		if tc, ok := c.transport.(*tls.Conn); ok {
			// tls.Conn.Close sends close_notify, bounded by a deadline
			// of its own, and closes the TCP connection.
			err = tc.Close()
		} else {
			err = c.raw.Close()
		}
		if !c.inputDone && c.srv.stopping() {
			// Close ended the connection before go-smtp read from it
			// again (it sets a read deadline first, which fails on the
			// closed connection, and never calls Read): the end of input
			// is still the server's.
			c.inputEnd(Event{Kind: EventInputEnded, Err: ErrServerClosed})
		}
		c.h.Event(Event{Kind: EventClosed})
		c.srv.forget(c)
	})
	return err
}

// inputEnd reports the end of the client's input, once.
func (c *Conn) inputEnd(ev Event) {
	if c.inputDone {
		return
	}
	c.inputDone = true
	c.h.Event(ev)
}

// lingerTime and lingerBytes bound the lingering close after a 421 of
// the server's own (Conn.linger).
const (
	lingerTime  = 250 * time.Millisecond
	lingerBytes = 256 << 10
)

// linger lets a 421 the server sent reach a client that is still
// sending (pipelining, a flood): closing a TCP connection with unread
// input makes the system send RST, on which the client's system drops
// the reply it has not yet read. So the server ends its side first (with
// close_notify inside TLS, then FIN) and reads, briefly and boundedly,
// what the client still sends.
func (c *Conn) linger() {
	tcp, ok := c.raw.(*net.TCPConn)
	if !ok || c.srv.stopping() {
		return
	}
	if tc, ok := c.transport.(*tls.Conn); ok {
		tc.SetWriteDeadline(time.Now().Add(lingerTime))
		tc.CloseWrite()
	}
	tcp.CloseWrite()
	tcp.SetReadDeadline(time.Now().Add(lingerTime))
	io.CopyN(io.Discard, tcp, lingerBytes)
}

// LocalAddr returns the server's side of the connection.
func (c *Conn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the TCP connection's deadlines, which bound the TLS
// session above it too.
func (c *Conn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline sets the TCP connection's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline sets the TCP connection's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

package smtpd

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

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
	// lastWord is the first word of the last command line, for the reply
	// to an unknown command.
	lastWord string

	// Write side.
	replies  msreply.ReplyBuffer
	rewriter msreply.Rewriter

	closeOnce sync.Once
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

// Read gives go-smtp the client's input, at most one line at a time,
// after answering STARTTLS itself.
func (c *Conn) Read(p []byte) (int, error) {
	if err := c.startImplicitTLS(); err != nil {
		return 0, io.EOF
	}
	for len(c.pending) == 0 {
		if err := c.fill(); err != nil {
			if c.srv.stopping() {
				c.h.Event(Event{Kind: EventInputEnded, Err: ErrServerClosed})
			} else {
				c.h.Event(Event{Kind: EventInputEnded, Err: err})
			}
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
func (c *Conn) command(line string) (handled bool, err error) {
	verb, arg := msreply.ParseCommand(line)
	shown := maskCommand(verb, strings.TrimRight(line, "\r\n"))
	c.h.Transcript(result.Client, shown)
	c.lastWord, _, _ = strings.Cut(strings.TrimSpace(line), " ")

	if refuse := c.h.Command(Command{Verb: verb, Arg: arg, Line: shown}); refuse != nil {
		err := c.send(refuse)
		if replyCode(refuse[len(refuse)-1]) == 421 {
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

// maskCommand hides an AUTH command's initial response, which carries
// credentials (RFC 4954 section 4).
func maskCommand(verb, line string) string {
	if verb == "AUTH" {
		if f := strings.Fields(line); len(f) > 2 {
			return f[0] + " " + f[1] + " " + redact.Mask
		}
	}
	return line
}

// Write takes go-smtp's reply lines, rewrites each complete reply into
// Exchange Online's wording and sends it.
func (c *Conn) Write(b []byte) (int, error) {
	if err := c.startImplicitTLS(); err != nil {
		return 0, err
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

// Close closes the TCP connection (and with it any TLS session above
// it) and reports EventClosed.
func (c *Conn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		err = c.raw.Close()
		c.h.Event(Event{Kind: EventClosed})
		c.srv.forget(c)
	})
	return err
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

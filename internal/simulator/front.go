package simulator

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/msreply"
)

// The front layer sits between each TCP connection and go-smtp. go-smtp
// hard-codes the texts of its positive replies ("250-Hello <helo>",
// "Roger, accepting mail from ...") and performs STARTTLS itself, writing
// through its own tls.Conn; a wrapper below that tls.Conn would see only
// ciphertext. So the front layer owns TLS instead: it answers STARTTLS,
// runs the handshake, and hands go-smtp the decrypted byte stream. go-smtp
// then only ever sees plaintext, and every reply it writes passes through
// rewrite on its way to the client, before and after STARTTLS alike.
//
// To answer STARTTLS (and to count DATA and BDAT) the front layer must know
// which client lines are commands. It follows go-smtp's input state from
// the replies going out: after a 354 the client sends message text up to
// <CRLF>.<CRLF>, after a 334 one SASL response, after "BDAT n" n octets.
// It hands go-smtp at most one line per Read so that go-smtp's buffered
// reader never holds input the front layer has not classified yet.

// readBufferSize holds the longest line go-smtp accepts.
const readBufferSize = 2 * maxLineLength

// frontListener hands go-smtp front connections instead of TCP connections.
type frontListener struct {
	net.Listener
	endpoint *endpoint
	sim      *Simulator
}

// Accept waits for a client and wraps its connection.
func (l *frontListener) Accept() (net.Conn, error) {
	raw, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := newFrontConn(raw, l.endpoint, l.sim)
	if !l.sim.track(c) {
		raw.Close()
		return nil, net.ErrClosed
	}
	c.logf("connect from %s", raw.RemoteAddr())
	return c, nil
}

// inputMode is what the client's next bytes are.
type inputMode int

const (
	inputCommand inputMode = iota // a command line
	inputSASL                     // one line answering a 334 challenge (RFC 4954 section 4)
	inputData                     // message text after 354, up to <CRLF>.<CRLF> (RFC 5321 section 4.1.1.4)
	inputChunk                    // the octets of a BDAT chunk (RFC 3030 section 2)
)

// frontConn is one client connection as go-smtp sees it. Read and Write
// are called only by go-smtp's goroutine for the connection; Close may come
// from any goroutine and touches only the TCP connection.
type frontConn struct {
	raw      net.Conn
	endpoint *endpoint
	sim      *Simulator
	id       int
	clientIP string

	// transport is raw, or the tls.Conn above it once TLS is up; in reads
	// from transport.
	transport net.Conn
	in        *bufio.Reader
	tlsState  *tls.ConnectionState
	tlsTried  bool  // implicit TLS: the handshake was attempted
	tlsErr    error // implicit TLS: the handshake failed

	// Read side.
	pending       []byte // the rest of the line go-smtp is reading
	mode          inputMode
	chunkLeft     int64
	midLine       bool // pending continues a line longer than the read buffer
	dataLineStart bool // in inputData: the next octet starts a line
	messageOctets int
	// needHello is set after STARTTLS: RFC 3207 section 4.2 has the
	// server forget everything learned before TLS, so the client must
	// send EHLO again before anything else.
	needHello bool
	// lastWord is the first word of the last command line, for the reply
	// to an unknown command.
	lastWord string

	// Write side.
	replies  msreply.ReplyBuffer
	rewriter msreply.Rewriter

	closeOnce sync.Once
}

func newFrontConn(raw net.Conn, ep *endpoint, sim *Simulator) *frontConn {
	ip := raw.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	return &frontConn{
		raw:       raw,
		endpoint:  ep,
		sim:       sim,
		clientIP:  ip,
		transport: raw,
		in:        bufio.NewReaderSize(raw, readBufferSize),
		rewriter: msreply.Rewriter{
			Hostname:  ep.hostname,
			ClientIP:  ip,
			Now:       time.Now,
			MessageID: func() string { return strconv.Itoa(sim.nextMessageID()) },
		},
	}
}

// encrypted reports whether TLS is up on the connection.
func (c *frontConn) encrypted() bool { return c.tlsState != nil }

// Read gives go-smtp the client's input, at most one line at a time,
// after answering STARTTLS itself.
func (c *frontConn) Read(p []byte) (int, error) {
	if err := c.startImplicitTLS(); err != nil {
		return 0, io.EOF
	}
	for len(c.pending) == 0 {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// fill reads the client's next line (or chunk) into pending, unless the
// front layer answers it itself.
func (c *frontConn) fill() error {
	if c.mode == inputChunk {
		buf := make([]byte, min(c.chunkLeft, 32<<10))
		n, err := c.in.Read(buf)
		c.chunkLeft -= int64(n)
		c.messageOctets += n
		if c.chunkLeft == 0 {
			c.mode = inputCommand
			c.logf("C: <%d octets of chunk data>", c.messageOctets)
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
		// The same end-of-data rule as go-smtp's reader: "." alone on a
		// line that follows a CRLF.
		if c.dataLineStart && string(line) == ".\r\n" {
			c.mode = inputCommand
			c.logf("C: <%d octets of message text>", c.messageOctets)
		}
		c.dataLineStart = bytes.HasSuffix(line, []byte("\r\n"))
	case inputSASL:
		c.mode = inputCommand
		c.logf("C: ****")
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
// handled when the front layer answered the command itself.
func (c *frontConn) command(line string) (handled bool, err error) {
	verb, arg := msreply.ParseCommand(line)
	c.logCommand(verb, strings.TrimRight(line, "\r\n"))
	c.lastWord, _, _ = strings.Cut(strings.TrimSpace(line), " ")

	var chunk int64
	switch verb {
	case "DATA":
		c.sim.countDataCommand()
	case "BDAT":
		c.sim.countDataCommand()
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

// startTLS answers STARTTLS and runs the handshake (RFC 3207 section 4).
func (c *frontConn) startTLS() error {
	if c.encrypted() {
		return c.send([]string{msreply.TLSAlreadyActive})
	}
	if n := c.in.Buffered(); n > 0 {
		// Commands pipelined after STARTTLS arrived in plaintext; RFC
		// 3207 section 4.2 has the server discard what it learned before
		// TLS, and executing them would let an attacker inject commands
		// into the encrypted session. The handshake reads from the TCP
		// connection, so they would be lost anyway; dropping them here
		// makes that visible in the log.
		c.in.Discard(n)
		c.logf("dropped %d octets sent after STARTTLS in plaintext", n)
	}
	if err := c.send([]string{msreply.ReadyToStartTLS}); err != nil {
		return err
	}
	if err := c.handshake(); err != nil {
		return io.EOF
	}
	c.needHello = true
	return nil
}

// startImplicitTLS runs the handshake before the banner on the
// implicit-TLS endpoint (RFC 8314 section 3.3).
func (c *frontConn) startImplicitTLS() error {
	if !c.endpoint.implicitTLS() || c.tlsTried {
		return c.tlsErr
	}
	c.tlsTried = true
	c.tlsErr = c.handshake()
	return c.tlsErr
}

// handshake makes transport a TLS server connection. A failed handshake
// closes the connection: go-smtp then sees the end of input.
func (c *frontConn) handshake() error {
	conn := tls.Server(c.raw, c.sim.tlsConfig)
	c.raw.SetDeadline(time.Now().Add(handshakeTimeout))
	err := conn.Handshake()
	c.raw.SetDeadline(time.Time{})
	if err != nil {
		c.logf("TLS handshake failed: %v", err)
		c.raw.Close()
		return err
	}
	c.raw.SetReadDeadline(time.Now().Add(idleTimeout))
	state := conn.ConnectionState()
	c.tlsState = &state
	c.transport = conn
	c.in = bufio.NewReaderSize(conn, readBufferSize)
	c.logf("TLS established: %s, %s", tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite))
	return nil
}

// Write takes go-smtp's reply lines, rewrites each complete reply into
// Exchange Online's wording and sends it.
func (c *frontConn) Write(b []byte) (int, error) {
	if err := c.startImplicitTLS(); err != nil {
		return 0, err
	}
	if err := c.replies.Add(b, func(reply []string) error { return c.send(c.rewrite(reply)) }); err != nil {
		return 0, err
	}
	return len(b), nil
}

// send writes a reply and notes what the client sends next.
func (c *frontConn) send(reply []string) error {
	var b strings.Builder
	for _, line := range reply {
		b.WriteString(line)
		b.WriteString("\r\n")
		c.logf("S: %s", line)
	}
	if _, err := io.WriteString(c.transport, b.String()); err != nil {
		return err
	}
	switch last := reply[len(reply)-1]; {
	case strings.HasPrefix(last, "354"):
		c.mode = inputData
		c.dataLineStart = true
		c.messageOctets = 0
	case strings.HasPrefix(last, "334"):
		c.mode = inputSASL
	}
	return nil
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

// logCommand logs a client command, masking AUTH initial responses.
func (c *frontConn) logCommand(verb, line string) {
	if verb == "AUTH" {
		if f := strings.Fields(line); len(f) > 2 {
			line = f[0] + " " + f[1] + " ****"
		}
	}
	c.logf("C: %s", line)
}

func (c *frontConn) logf(format string, args ...any) {
	if c.sim.log == nil {
		return
	}
	c.sim.logf("%s#%d %s", c.endpoint.role, c.id, fmt.Sprintf(format, args...))
}

// Close closes the TCP connection (and with it any TLS session above it).
func (c *frontConn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		err = c.raw.Close()
		c.sim.untrack(c)
		c.logf("closed")
	})
	return err
}

// LocalAddr returns the simulator's side of the connection.
func (c *frontConn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr returns the client's address.
func (c *frontConn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the TCP connection's deadlines, which bound the TLS
// session above it too.
func (c *frontConn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline sets the TCP connection's read deadline.
func (c *frontConn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline sets the TCP connection's write deadline.
func (c *frontConn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

package smtpd

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/msreply"
)

// startTLS answers STARTTLS and runs the handshake (RFC 3207 section 4).
func (c *Conn) startTLS() error {
	if c.Encrypted() {
		return c.send([]string{msreply.TLSAlreadyActive})
	}
	if n := c.in.Buffered(); n > 0 {
		// Commands pipelined after STARTTLS arrived in plaintext; RFC
		// 3207 section 4.2 has the server discard them. The handshake
		// reads from the TCP connection, so they would be lost anyway;
		// dropping them here makes that visible.
		c.in.Discard(n)
		c.h.Event(Event{Kind: EventDropped, Octets: n})
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

// startImplicitTLS runs the handshake before the greeting on an
// implicit-TLS endpoint (RFC 8314 section 3.3).
func (c *Conn) startImplicitTLS() error {
	if !c.ep.ImplicitTLS || c.tlsTried {
		return c.tlsErr
	}
	c.tlsTried = true
	c.tlsErr = c.handshake()
	return c.tlsErr
}

// handshake makes transport a TLS server connection, reporting the
// ClientHello first. A failed handshake closes the connection: go-smtp
// then sees the end of input.
func (c *Conn) handshake() error {
	cfg := c.srv.cfg.TLS.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c.h.Event(Event{Kind: EventClientHello, Hello: hello})
		return nil, nil
	}
	conn := tls.Server(c.raw, cfg)
	c.raw.SetDeadline(time.Now().Add(handshakeTimeout))
	err := conn.Handshake()
	c.raw.SetDeadline(time.Time{})
	if err != nil {
		c.h.Event(Event{Kind: EventHandshakeFailed, Err: err})
		c.raw.Close()
		return err
	}
	// The client's next command is due within the idle timeout, as any.
	c.raw.SetReadDeadline(time.Now().Add(c.srv.cfg.IdleTimeout))
	state := conn.ConnectionState()
	c.tlsState = &state
	c.transport = conn
	c.in = bufio.NewReaderSize(conn, readBufferSize)
	c.h.Event(Event{Kind: EventTLS, TLS: &state})
	return nil
}

// errHelloRecorded stops a handshake once the ClientHello is reported.
var errHelloRecorded = errors.New("ClientHello recorded")

// detectedImplicitTLS handles a client that began a TLS handshake instead
// of reading the greeting (a client set up for implicit TLS, RFC 8314,
// usually port 465). It has already read the plaintext greeting as a
// broken TLS record, so no handshake can succeed; the front reads the
// ClientHello it sent, to report the offer, and the session ends.
func (c *Conn) detectedImplicitTLS() {
	c.h.Event(Event{Kind: EventImplicitTLS})
	cfg := c.srv.cfg.TLS.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c.h.Event(Event{Kind: EventClientHello, Hello: hello})
		return nil, errHelloRecorded
	}
	c.raw.SetDeadline(time.Now().Add(helloTimeout))
	_ = tls.Server(&replayConn{Conn: c.raw, r: c.in}, cfg).Handshake()
}

// replayConn reads what is buffered (and then the connection) and drops
// what is written, so that a ClientHello can be parsed without answering.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *replayConn) Write(p []byte) (int, error) { return len(p), nil }

package smtpd

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
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
	if c.ep.ClientAuth != tls.NoClientCert {
		cfg.ClientAuth = c.ep.ClientAuth
	}
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c.h.Event(Event{Kind: EventClientHello, Hello: hello})
		return nil, nil
	}
	capture := &captureConn{Conn: c.raw}
	conn := tls.Server(capture, cfg)
	c.raw.SetDeadline(time.Now().Add(handshakeTimeout))
	err := conn.Handshake()
	c.raw.SetDeadline(time.Time{})
	received := capture.stop()
	if err != nil {
		ev := Event{Kind: EventHandshakeFailed, Err: err}
		if a := plaintextAlert(received); a != nil {
			ev.Alert = a
			if !strings.HasPrefix(err.Error(), "remote error: ") {
				ev.Err = &AlertError{Alert: *a, Err: err}
			}
		}
		c.h.Event(ev)
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

// maxCapture bounds what captureConn keeps of a handshake: a ClientHello
// fits in a few records (RFC 8446 section 5.1 bounds a record to 2^14
// octets of plaintext), and the alert that matters comes soon after.
const maxCapture = 64 << 10

// captureConn keeps the first maxCapture octets read from the client
// during a handshake, so that a failed handshake can be read again.
type captureConn struct {
	net.Conn
	mu      sync.Mutex
	buf     []byte
	stopped bool
}

func (c *captureConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if !c.stopped && len(c.buf) < maxCapture {
		c.buf = append(c.buf, p[:min(n, maxCapture-len(c.buf))]...)
	}
	c.mu.Unlock()
	return n, err
}

// stop ends the capture and returns what it kept.
func (c *captureConn) stop() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	out := c.buf
	c.buf = nil
	return out
}

// Alert is a TLS alert (RFC 8446 section 6; RFC 5246 section 7.2).
type Alert struct {
	// Level is 1 (warning) or 2 (fatal).
	Level uint8
	// Description says what the alert is about (48 is unknown_ca).
	Description uint8
}

// alertNames are the descriptions of the TLS Alerts registry (RFC 8446
// section 6, RFC 5246 section 7.2, RFC 8446 section 4.2 for the newer ones).
var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
	22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
	42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
	49: "access_denied", 50: "decode_error", 51: "decrypt_error", 60: "export_restriction",
	70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation",
	109: "missing_extension", 110: "unsupported_extension", 111: "certificate_unobtainable",
	112: "unrecognized_name", 113: "bad_certificate_status_response", 114: "bad_certificate_hash_value",
	115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
}

// Name is the description's name in the registry ("unknown_ca"), or
// "alert 123" for one it does not list.
func (a Alert) Name() string {
	if n, ok := alertNames[a.Description]; ok {
		return n
	}
	return fmt.Sprintf("alert %d", a.Description)
}

// AlertError is a failed handshake in which the client sent an alert in
// a plaintext record that crypto/tls could not read as one. Under TLS
// 1.3 a client that refuses the server's certificate (OpenSSL's, with
// verification on: swaks --tls-verify, curl, Python's default context)
// sends its unknown_ca alert before it switches to the handshake keys;
// the server, which expects an encrypted record there, fails with "bad
// record MAC" (RFC 8446 section 5.2), which hides why the client gave
// up.
type AlertError struct {
	Alert Alert
	// Err is crypto/tls's error.
	Err error
}

func (e *AlertError) Error() string {
	return fmt.Sprintf("remote error: tls: %s (the client's alert %d, sent in a plaintext record; crypto/tls reported: %v)",
		e.Alert.Name(), e.Alert.Description, e.Err)
}

func (e *AlertError) Unwrap() error { return e.Err }

// plaintextAlert finds the first alert record (content type 21, RFC 8446
// section 5.1) in the octets a client sent during a handshake, reading
// them record by record from the start. Under TLS 1.3 every alert after
// the ServerHello is encrypted and travels as content type 23, so a
// record of type 21 there was sent in plaintext.
func plaintextAlert(b []byte) *Alert {
	for len(b) >= 5 {
		typ, n := b[0], int(b[3])<<8|int(b[4])
		if b[1] != 3 || len(b) < 5+n {
			return nil // not a TLS record, or one cut short
		}
		if typ == 21 && n == 2 {
			return &Alert{Level: b[5], Description: b[6]}
		}
		b = b[5+n:]
	}
	return nil
}

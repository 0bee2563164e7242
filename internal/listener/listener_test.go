package listener

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

const testPassword = "s3cret-Passw0rd"

// start runs a listener on loopback; sessions arrive on the channel.
func start(t *testing.T, cfg Config) (*Listener, <-chan *result.DeviceSession) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Hostname == "" {
		cfg.Hostname = "smtp.office365.com"
	}
	ch := make(chan *result.DeviceSession, 8)
	cfg.OnSession = func(s *result.DeviceSession) { ch <- s }
	l, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, ch
}

func next(t *testing.T, ch <-chan *result.DeviceSession) *result.DeviceSession {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(20 * time.Second):
		t.Fatal("no session was recorded")
		return nil
	}
}

func exchangeOnline() Config {
	return Config{RequireTLS: true, AcceptAuth: true, Mechanisms: []string{"LOGIN", "PLAIN", "XOAUTH2"}}
}

// loginAuth is the client side of AUTH LOGIN, which net/smtp lacks.
type loginAuth struct{ user, password string }

func (a loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }
func (a loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch string(challenge) {
	case "Username:":
		return []byte(a.user), nil
	case "Password:":
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected challenge %q", challenge)
}

// send holds a whole submission with Go's client, like a modern device.
func send(t *testing.T, addr string, tlsCfg *tls.Config, auth smtp.Auth, msg string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("scanner01.contoso.com"); err != nil {
		return err
	}
	if tlsCfg != nil {
		if err := c.StartTLS(tlsCfg); err != nil {
			return err
		}
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail("scanner@contoso.com"); err != nil {
		return err
	}
	if err := c.Rcpt("helpdesk@contoso.com"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

const scanMessage = "From: scanner@contoso.com\r\nTo: helpdesk@contoso.com\r\nSubject: Scan from\r\n  reception copier\r\nX-Mailer: Copier 1.0\r\n\r\nattachment would be here\r\n"

func TestModernDeviceLoginAfterTLS(t *testing.T) {
	l, ch := start(t, exchangeOnline())
	err := send(t, l.Addr(), &tls.Config{InsecureSkipVerify: true, ServerName: "smtp.office365.com"},
		loginAuth{"scanner@contoso.com", testPassword}, scanMessage)
	if err != nil {
		t.Fatal(err)
	}
	s := next(t, ch)
	if !s.StartTLS || s.TLS == nil || s.TLS.Version != "1.3" {
		t.Fatalf("TLS = %+v, StartTLS %v", s.TLS, s.StartTLS)
	}
	h := s.ClientHello
	if h == nil || !slices.Contains(h.Versions, "1.3") || !slices.Contains(h.Versions, "1.2") || !h.ECDHE || h.ServerName != "smtp.office365.com" {
		t.Fatalf("ClientHello = %+v", h)
	}
	if len(s.Auth) != 1 || s.Auth[0].Mechanism != "LOGIN" || s.Auth[0].User != "scanner@contoso.com" || !s.Auth[0].AfterTLS ||
		s.Auth[0].Reply.String() != "235 2.7.0 Authentication successful" {
		t.Fatalf("Auth = %+v", s.Auth)
	}
	if s.MailFrom == nil || *s.MailFrom != "scanner@contoso.com" || !slices.Equal(s.Recipients, []string{"helpdesk@contoso.com"}) {
		t.Fatalf("envelope = %v %v", s.MailFrom, s.Recipients)
	}
	if len(s.Messages) != 1 || s.Messages[0].Size != int64(len(scanMessage)) ||
		s.Messages[0].Header("Subject") != "Scan from reception copier" || s.Messages[0].File != "" {
		t.Fatalf("Messages = %+v", s.Messages)
	}
	if len(s.Rejections) != 0 || s.End != "QUIT" || s.Helo != "scanner01.contoso.com" {
		t.Fatalf("Rejections %v, End %q, Helo %q", s.Rejections, s.End, s.Helo)
	}
	assertNoSecret(t, s)
}

// assertNoSecret fails when the password, or its base64 form, is
// anywhere in the record.
func assertNoSecret(t *testing.T, s *result.DeviceSession) {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testPassword, base64.StdEncoding.EncodeToString([]byte(testPassword)),
		base64.StdEncoding.EncodeToString([]byte("\x00scanner@contoso.com\x00" + testPassword))} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the record holds the secret %q:\n%s", secret, raw)
		}
	}
}

func TestPlainAuthInitialResponseMaskedAndBodyKept(t *testing.T) {
	cfg := exchangeOnline()
	cfg.KeepDir = t.TempDir()
	l, ch := start(t, cfg)
	err := send(t, l.Addr(), &tls.Config{InsecureSkipVerify: true},
		smtp.PlainAuth("", "scanner@contoso.com", testPassword, "127.0.0.1"), scanMessage)
	if err != nil {
		t.Fatal(err)
	}
	s := next(t, ch)
	if len(s.Auth) != 1 || s.Auth[0].Mechanism != "PLAIN" || s.Auth[0].User != "scanner@contoso.com" {
		t.Fatalf("Auth = %+v", s.Auth)
	}
	// The message is written to a file as it arrives, not kept in the
	// record.
	body, err := os.ReadFile(s.Messages[0].File)
	if err != nil || string(body) != scanMessage {
		t.Fatalf("kept message %q: %q (%v)", s.Messages[0].File, body, err)
	}
	found := false
	for _, l := range s.Transcript {
		found = found || l.Text == "AUTH PLAIN ****"
	}
	if !found {
		t.Fatalf("no masked AUTH line in %v", s.Transcript)
	}
	assertNoSecret(t, s)
}

func TestTLS10IsRecordedAndRefused(t *testing.T) {
	l, ch := start(t, exchangeOnline())
	err := send(t, l.Addr(), &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10},
		loginAuth{"scanner@contoso.com", testPassword}, scanMessage)
	if err == nil || !strings.Contains(err.Error(), "4.7.66") {
		t.Fatalf("err = %v, want the 421 4.7.66 refusal", err)
	}
	s := next(t, ch)
	if s.TLS == nil || s.TLS.Version != "1.0" {
		t.Fatalf("TLS = %+v", s.TLS)
	}
	if !slices.Equal(s.ClientHello.Versions, []string{"1.0"}) {
		t.Fatalf("offered %v", s.ClientHello.Versions)
	}
	if len(s.Rejections) != 1 || s.Rejections[0].Reply.Codes() != "421 4.7.66" || s.Rejections[0].Command != "EHLO scanner01.contoso.com" {
		t.Fatalf("Rejections = %+v", s.Rejections)
	}
	if len(s.Auth) != 0 || s.MailFrom != nil {
		t.Fatalf("the session went on after the refusal: %+v", s)
	}
}

func TestLegacyTLSAllowedGoesOn(t *testing.T) {
	cfg := exchangeOnline()
	cfg.AllowLegacyTLS = true
	l, ch := start(t, cfg)
	err := send(t, l.Addr(), &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11},
		loginAuth{"scanner@contoso.com", testPassword}, scanMessage)
	if err != nil {
		t.Fatal(err)
	}
	s := next(t, ch)
	if s.TLS.Version != "1.1" || len(s.Messages) != 1 || len(s.Rejections) != 0 {
		t.Fatalf("TLS %+v, messages %d, rejections %v", s.TLS, len(s.Messages), s.Rejections)
	}
}

func TestRSAKeyExchangeOnly(t *testing.T) {
	l, ch := start(t, exchangeOnline())
	cfg := &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}}
	if err := send(t, l.Addr(), cfg, loginAuth{"scanner@contoso.com", testPassword}, scanMessage); err != nil {
		t.Fatal(err)
	}
	s := next(t, ch)
	if s.TLS == nil || s.TLS.CipherSuite != "TLS_RSA_WITH_AES_128_CBC_SHA" {
		t.Fatalf("TLS = %+v (the RSA certificate must be chosen)", s.TLS)
	}
	if s.ClientHello.ECDHE || !slices.Equal(s.ClientHello.CipherSuites, []string{"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"}) {
		t.Fatalf("ClientHello = %+v", s.ClientHello)
	}
}

// dialScript connects and sends each command, returning every reply line.
func dialScript(t *testing.T, addr string, commands ...string) []string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	var got []string
	readReply := func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			got = append(got, line)
			if len(line) < 4 || line[3] != '-' {
				return
			}
		}
	}
	readReply()
	for _, cmd := range commands {
		fmt.Fprintf(conn, "%s\r\n", cmd)
		readReply()
	}
	return got
}

func TestPlaintextDeviceGetsExchangeRejections(t *testing.T) {
	l, ch := start(t, exchangeOnline())
	plain := base64.StdEncoding.EncodeToString([]byte("\x00scanner@contoso.com\x00" + testPassword))
	replies := dialScript(t, l.Addr(), "EHLO copier", "AUTH PLAIN "+plain, "MAIL FROM:<scanner@contoso.com>", "QUIT")
	text := strings.Join(replies, "\n")
	if strings.Contains(text, "AUTH") {
		t.Errorf("AUTH offered before STARTTLS:\n%s", text)
	}
	for _, want := range []string{"250-STARTTLS", "504 5.7.4 Unrecognized authentication type", "451 5.7.3 STARTTLS is required to send mail"} {
		if !strings.Contains(text, want) {
			t.Errorf("replies lack %q:\n%s", want, text)
		}
	}
	s := next(t, ch)
	if s.StartTLS || s.ClientHello != nil || len(s.Rejections) != 2 || s.Rejections[0].Command != "AUTH PLAIN ****" ||
		s.Rejections[1].Command != "MAIL FROM:<scanner@contoso.com>" {
		t.Fatalf("record: StartTLS %v, rejections %+v", s.StartTLS, s.Rejections)
	}
	// The initial response crossed the network in clear: the record says
	// so and names the user (never the password).
	if len(s.Auth) != 1 || s.Auth[0].AfterTLS || !s.Auth[0].InClear || s.Auth[0].User != "scanner@contoso.com" {
		t.Fatalf("Auth = %+v", s.Auth)
	}
	assertNoSecret(t, s)
}

func TestMailWithoutAuthGets530(t *testing.T) {
	l, ch := start(t, exchangeOnline())
	c, err := smtp.Dial(l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	err = c.Mail("scanner@contoso.com")
	if err == nil || !strings.Contains(err.Error(), "530") || !strings.Contains(err.Error(), "5.7.57 Client not authenticated to send mail") {
		t.Fatalf("MAIL: %v", err)
	}
	c.Quit()
	s := next(t, ch)
	if len(s.Rejections) != 1 || s.Rejections[0].Reply.Codes() != "530 5.7.57" {
		t.Fatalf("Rejections = %+v", s.Rejections)
	}
}

func TestDirectSendStyleNeedsNoAuth(t *testing.T) {
	l, ch := start(t, Config{})
	if err := send(t, l.Addr(), nil, nil, scanMessage); err != nil {
		t.Fatal(err)
	}
	s := next(t, ch)
	if s.StartTLS || len(s.Messages) != 1 || len(s.Rejections) != 0 {
		t.Fatalf("record = %+v", s)
	}
}

func TestImplicitTLSDeviceIsRecognised(t *testing.T) {
	l, ch := start(t, exchangeOnline())
	conn, err := tls.Dial("tcp", l.Addr(), &tls.Config{InsecureSkipVerify: true, ServerName: "smtp.office365.com"})
	if err == nil {
		conn.Close()
		t.Fatal("the handshake succeeded after a plaintext greeting")
	}
	s := next(t, ch)
	if !s.ImplicitTLS || s.ClientHello == nil || s.ClientHello.ServerName != "smtp.office365.com" {
		t.Fatalf("ImplicitTLS %v, ClientHello %+v", s.ImplicitTLS, s.ClientHello)
	}
}

func TestHandshakeFailureKeepsClientHello(t *testing.T) {
	l, ch := start(t, exchangeOnline())
	c, err := smtp.Dial(l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	// The device verifies the certificate and refuses the self-signed one.
	if err := c.StartTLS(&tls.Config{ServerName: "smtp.office365.com", MaxVersion: tls.VersionTLS12}); err == nil {
		t.Fatal("a self-signed certificate verified")
	}
	c.Close()
	s := next(t, ch)
	if s.TLS != nil || s.HandshakeError == "" || s.ClientHello == nil || !slices.Equal(s.ClientHello.Versions, []string{"1.2"}) {
		t.Fatalf("TLS %+v, error %q, hello %+v", s.TLS, s.HandshakeError, s.ClientHello)
	}
}

func TestSessionsAreNumbered(t *testing.T) {
	var connects []int
	cfg := Config{}
	ch := make(chan *result.DeviceSession, 4)
	cfg.Addr = "127.0.0.1:0"
	cfg.OnConnect = func(n int, remote string) { connects = append(connects, n) }
	cfg.OnSession = func(s *result.DeviceSession) { ch <- s }
	l, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dialScript(t, l.Addr(), "QUIT")
	first := next(t, ch)
	dialScript(t, l.Addr(), "EHLO b", "QUIT")
	second := next(t, ch)
	if first.Number != 1 || second.Number != 2 || !slices.Equal(connects, []int{1, 2}) {
		t.Fatalf("numbers %d %d, connects %v", first.Number, second.Number, connects)
	}
}

func TestCloseEndsOpenSessions(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0"}
	var got []*result.DeviceSession
	cfg.OnSession = func(s *result.DeviceSession) { got = append(got, s) }
	l, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bufio.NewReader(conn).ReadString('\n') // the greeting: the session is open
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].End != "the listener stopped" {
		t.Fatalf("sessions after Close: %+v", got)
	}
}

func TestCertificatesHaveFingerprints(t *testing.T) {
	l, _ := start(t, exchangeOnline())
	certs := l.Certificates()
	if len(certs) != 2 || certs[0].Key != "ECDSA P-256" || certs[1].Key != "RSA 2048" {
		t.Fatalf("certificates = %+v", certs)
	}
	if len(certs[0].SHA256) != 95 || !strings.Contains(certs[0].Subject, "smtp.office365.com") {
		t.Fatalf("certificate = %+v", certs[0])
	}
}

func TestBindErrorHints(t *testing.T) {
	perm := &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EACCES)}
	e := bindError("0.0.0.0:25", perm)
	if !errors.Is(e, syscall.EACCES) || !strings.Contains(e.Error(), "Ports below 1024 need privileges") ||
		!strings.Contains(e.Error(), "2525") || !strings.Contains(e.Error(), "cap_net_bind_service") {
		t.Fatalf("hint: %v", e)
	}
	inUse := &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	if e := bindError("0.0.0.0:2525", inUse); !strings.Contains(e.Error(), "already listens") {
		t.Fatalf("hint: %v", e)
	}
	// The codes bind returns on this system (on Windows the Winsock ones,
	// which Go's syscall.EADDRINUSE does not match).
	for _, tc := range []struct {
		err  error
		hint string
	}{{errAddrInUse, "already listens"}, {errAddrNotAvail, "not one of this machine's"}, {errAccess, "need privileges"}} {
		err := &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", tc.err)}
		if e := bindError("0.0.0.0:25", err); !strings.Contains(e.Error(), tc.hint) {
			t.Errorf("%v: hint %v", tc.err, e)
		}
	}
	// A real one: the port is taken.
	l, _ := start(t, Config{})
	_, err := Listen(Config{Addr: l.Addr()})
	var be *BindError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "already listens") {
		t.Fatalf("Listen on a used port: %v", err)
	}
}

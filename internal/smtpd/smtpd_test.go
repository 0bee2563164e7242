package smtpd

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/msreply"
	"github.com/smtpdiag/smtpdiag/internal/pki"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// recorder is a Handler that writes down everything the front reports.
type recorder struct {
	refuse func(Command) []string  // nil: refuse nothing
	check  func(Credentials) error // nil: accept any credentials
	closed chan struct{}           // closed at EventClosed

	mu       sync.Mutex
	log      []string // "C: ...", "S: ...", "event ..." in order
	commands []string
	creds    []Credentials
	messages []string
	events   []Event
}

func (r *recorder) add(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

func (r *recorder) Transcript(dir result.Direction, text string) {
	r.add(func() { r.log = append(r.log, string(dir)+": "+text) })
}

func (r *recorder) Event(e Event) {
	r.add(func() {
		r.events = append(r.events, e)
		r.log = append(r.log, fmt.Sprintf("event %d", e.Kind))
	})
	if e.Kind == EventClosed {
		close(r.closed)
	}
}

func (r *recorder) Command(cmd Command) []string {
	r.add(func() { r.commands = append(r.commands, cmd.Verb) })
	if r.refuse != nil {
		return r.refuse(cmd)
	}
	return nil
}

func (r *recorder) Reply([]string) {}

func (r *recorder) Authenticate(cred Credentials) error {
	r.add(func() { r.creds = append(r.creds, cred) })
	if r.check != nil {
		return r.check(cred)
	}
	return nil
}

func (r *recorder) Mail(string) error { return nil }
func (r *recorder) Rcpt(string) error { return nil }

func (r *recorder) Data(tx Transaction, body io.Reader) error {
	b, err := io.ReadAll(body)
	r.add(func() {
		r.messages = append(r.messages, tx.User+"|"+tx.From+"|"+strings.Join(tx.To, ",")+"|"+string(b))
	})
	return err
}

func (r *recorder) MessageID() string { return "7" }

// snapshot returns the log so far, and the events.
func (r *recorder) snapshot() ([]string, []Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log), slices.Clone(r.events)
}

// waitClosed waits for the connection's EventClosed.
func (r *recorder) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-r.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection was not closed")
	}
}

// fixture is a Server with one endpoint whose connections each get the
// next recorder.
type fixture struct {
	srv  *Server
	addr string
	recs chan *recorder
}

func serve(t *testing.T, ep Endpoint, setup func(*recorder)) *fixture {
	t.Helper()
	cert, err := pki.SelfSigned(pki.LeafOptions{Names: []string{"mx.example.test", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{addr: nl.Addr().String(), recs: make(chan *recorder, 4)}
	f.srv = NewServer(Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	if ep.Hostname == "" {
		ep.Hostname = "mx.example.test"
	}
	ep.Backend = BackendFunc(func(*Conn) Handler {
		r := &recorder{closed: make(chan struct{})}
		if setup != nil {
			setup(r)
		}
		f.recs <- r
		return r
	})
	f.srv.Serve(nl, &ep)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

// recorder returns the Handler of the fixture's next connection.
func (f *fixture) recorder(t *testing.T) *recorder {
	t.Helper()
	select {
	case r := <-f.recs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no connection")
		return nil
	}
}

// client speaks SMTP through net/textproto.
type client struct {
	t    *testing.T
	conn net.Conn
	text *textproto.Conn
}

func dial(t *testing.T, f *fixture) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", f.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, text: textproto.NewConn(conn)}
	c.want("", 220)
	return c
}

// want sends line (none when "") and checks the reply's code; it returns
// the reply's text.
func (c *client) want(line string, code int) string {
	c.t.Helper()
	if line != "" {
		if err := c.text.PrintfLine("%s", line); err != nil {
			c.t.Fatalf("send %.40q: %v", line, err)
		}
	}
	got, msg, err := c.text.ReadResponse(0)
	if got != code {
		c.t.Fatalf("%.40q: got %d %q (%v), want %d", line, got, msg, err, code)
	}
	return msg
}

// write sends bytes as they are.
func (c *client) write(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// transaction sends a message with DATA; text ends with <CRLF>.<CRLF>.
func (c *client) transaction(text string) {
	c.t.Helper()
	c.want("MAIL FROM:<a@example.test>", 250)
	c.want("RCPT TO:<b@example.test>", 250)
	c.want("DATA", 354)
	c.write(text)
	c.want("", 250)
}

// handshake runs the client side of TLS on the connection.
func (c *client) handshake() {
	c.t.Helper()
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("handshake: %v", err)
	}
	c.conn, c.text = tc, textproto.NewConn(tc)
}

// closedByServer reports whether the server ended the connection (with
// a reset where input was left unread).
func (c *client) closedByServer() bool {
	_, err := c.text.ReadLine()
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestInputModes(t *testing.T) {
	f := serve(t, Endpoint{}, nil)
	c := dial(t, f)
	rec := f.recorder(t)
	c.want("EHLO client", 250)
	// Message text that looks like commands is message text.
	c.transaction("Subject: t\r\n\r\nSTARTTLS\r\nAUTH LOGIN c2VjcmV0\r\n.\r\n")
	c.want("MAIL FROM:<a@example.test>", 250)
	c.want("RCPT TO:<b@example.test>", 250)
	c.write("BDAT 10\r\nSTARTTLS\r\n")
	c.want("", 250)
	c.write("BDAT 6 LAST\r\nQUIT\r\n")
	c.want("", 250)
	c.want("NOOP", 250)
	c.want("QUIT", 221)
	rec.waitClosed(t)

	log, _ := rec.snapshot()
	clientLines := []string{}
	for _, l := range log {
		if strings.HasPrefix(l, "C: ") {
			clientLines = append(clientLines, l)
		}
	}
	want := []string{"C: EHLO client", "C: MAIL FROM:<a@example.test>", "C: RCPT TO:<b@example.test>", "C: DATA",
		"C: <48 octets of message text>", "C: MAIL FROM:<a@example.test>", "C: RCPT TO:<b@example.test>",
		"C: BDAT 10", "C: <10 octets of chunk data>", "C: BDAT 6 LAST", "C: <6 octets of chunk data>", "C: NOOP", "C: QUIT"}
	if !slices.Equal(clientLines, want) {
		t.Errorf("client lines:\n%s\nwant:\n%s", strings.Join(clientLines, "\n"), strings.Join(want, "\n"))
	}
	if slices.Contains(rec.commands, "STARTTLS") || slices.Contains(rec.commands, "AUTH") {
		t.Errorf("message text taken for commands: %v", rec.commands)
	}
	wantMessages := []string{
		"|a@example.test|b@example.test|Subject: t\r\n\r\nSTARTTLS\r\nAUTH LOGIN c2VjcmV0\r\n",
		"|a@example.test|b@example.test|STARTTLS\r\nQUIT\r\n",
	}
	if !slices.Equal(rec.messages, wantMessages) {
		t.Errorf("messages = %q", rec.messages)
	}
}

func TestSASLIsMasked(t *testing.T) {
	const secret = "Pa55-word"
	f := serve(t, Endpoint{Mechanisms: []string{"PLAIN", "LOGIN", "XOAUTH2", "CRAM-MD5"}, RequireAuth: true}, func(r *recorder) {
		r.check = func(cred Credentials) error {
			if cred.Matches(secret) {
				return nil
			}
			return msreply.AuthUnsuccessful("mx.example.test")
		}
	})
	c := dial(t, f)
	rec := f.recorder(t)
	c.want("EHLO client", 250)
	c.want("MAIL FROM:<a@example.test>", 530)
	c.want("AUTH PLAIN "+b64("\x00plain@example.test\x00wrong"), 535)
	c.want("AUTH LOGIN "+b64("login@example.test"), 334)
	c.want(b64(secret), 235)
	c.want("AUTH PLAIN "+b64("\x00plain@example.test\x00"+secret), 503) // once per session
	c.transaction("x\r\n.\r\n")
	c.want("QUIT", 221)
	rec.waitClosed(t)

	log, events := rec.snapshot()
	joined := strings.Join(log, "\n")
	for _, s := range []string{secret, b64(secret), "wrong", b64("\x00plain@example.test\x00wrong"), b64("login@example.test")} {
		if strings.Contains(joined, s) {
			t.Errorf("the transcript shows %q:\n%s", s, joined)
		}
	}
	for _, s := range []string{"C: AUTH PLAIN ****", "C: AUTH LOGIN ****", "S: 334 UGFzc3dvcmQ6\nC: ****\nS: 235 2.7.0 Authentication successful"} {
		if !strings.Contains(joined, s) {
			t.Errorf("the transcript lacks %q:\n%s", s, joined)
		}
	}
	if len(rec.creds) != 2 || rec.creds[0] != (Credentials{Mechanism: "PLAIN", User: "plain@example.test", Secret: "wrong"}) ||
		rec.creds[1] != (Credentials{Mechanism: "LOGIN", User: "login@example.test", Secret: secret}) {
		t.Errorf("credentials = %+v", rec.creds)
	}
	var users []string
	for _, e := range events {
		if e.Kind == EventAuthUser {
			users = append(users, e.User)
		}
	}
	if !slices.Equal(users, []string{"plain@example.test", "login@example.test"}) {
		t.Errorf("EventAuthUser users = %q", users)
	}
	if len(rec.messages) != 1 || !strings.HasPrefix(rec.messages[0], "login@example.test|") {
		t.Errorf("messages = %q", rec.messages)
	}
}

func TestLoginUserIsReportedBeforeThePassword(t *testing.T) {
	f := serve(t, Endpoint{Mechanisms: []string{"LOGIN"}}, nil)
	c := dial(t, f)
	rec := f.recorder(t)
	c.want("EHLO client", 250)
	c.want("AUTH LOGIN", 334)
	c.want(b64("quitter@example.test"), 334)
	c.want("*", 501)
	c.want("QUIT", 221)
	rec.waitClosed(t)
	_, events := rec.snapshot()
	if !slices.ContainsFunc(events, func(e Event) bool { return e.Kind == EventAuthUser && e.User == "quitter@example.test" }) {
		t.Errorf("no EventAuthUser for a client that gave up at the password prompt: %+v", events)
	}
	if len(rec.creds) != 0 {
		t.Errorf("Authenticate called with %+v", rec.creds)
	}
}

func TestLineLength(t *testing.T) {
	f := serve(t, Endpoint{Mechanisms: []string{"XOAUTH2"}}, nil)

	// RFC 4954 section 4: an AUTH command line of up to 12288 octets.
	c := dial(t, f)
	c.want("EHLO client", 250)
	token := strings.Repeat("t", 9000)
	c.want("AUTH XOAUTH2 "+b64("user=u@example.test\x01auth=Bearer "+token+"\x01\x01"), 235)
	rec := f.recorder(t)
	rec.mu.Lock()
	creds := slices.Clone(rec.creds)
	rec.mu.Unlock()
	if len(creds) != 1 || creds[0].Secret != token {
		t.Errorf("a long token did not arrive whole")
	}

	// Over MaxLineLength, within the front's buffer and beyond it.
	for _, n := range []int{MaxLineLength + 100, readBufferSize + 100} {
		c := dial(t, f)
		rec := f.recorder(t)
		c.want("EHLO client", 250)
		// The server may close before it has read all of the line, and
		// then the rest cannot be sent.
		go io.WriteString(c.conn, "NOOP "+strings.Repeat("x", n)+"\r\n")
		code, msg, _ := c.text.ReadResponse(0)
		if code != 500 || msg != "5.4.0 Too long line, closing connection" || !c.closedByServer() {
			t.Errorf("%d octets: %d %q", n, code, msg)
		}
		rec.waitClosed(t)
	}
}

func TestSTARTTLS(t *testing.T) {
	f := serve(t, Endpoint{Mechanisms: []string{"PLAIN"}, RequireTLS: true}, nil)
	c := dial(t, f)
	rec := f.recorder(t)
	if ehlo := c.want("EHLO client", 250); !strings.Contains(ehlo, "STARTTLS") || strings.Contains(ehlo, "AUTH") {
		t.Errorf("EHLO before TLS: %q", ehlo)
	}
	c.want("AUTH PLAIN "+b64("\x00u\x00p"), 504)
	c.want("MAIL FROM:<a@example.test>", 451)
	// One write: the NOOP travels in plaintext behind STARTTLS and must
	// be discarded, not answered inside the TLS session.
	c.write("STARTTLS\r\nNOOP\r\n")
	c.want("", 220)
	c.handshake()
	// RFC 3207 section 4.2: EHLO first; a refused BDAT's chunk is not
	// read as commands.
	c.want("MAIL FROM:<a@example.test>", 503)
	c.write("BDAT 6\r\nQUIT\r\n")
	c.want("", 503)
	c.want("NOOP", 250)
	if ehlo := c.want("EHLO client", 250); strings.Contains(ehlo, "STARTTLS") || !strings.Contains(ehlo, "AUTH PLAIN") {
		t.Errorf("EHLO after TLS: %q", ehlo)
	}
	c.want("STARTTLS", 503)
	c.want("MAIL FROM:<a@example.test>", 250)
	c.want("QUIT", 221)
	rec.waitClosed(t)

	log, events := rec.snapshot()
	if i := slices.Index(log, "C: STARTTLS"); i < 0 || log[i+1] != fmt.Sprintf("event %d", EventDropped) ||
		log[i+2] != "S: "+msreply.ReadyToStartTLS {
		t.Errorf("transcript:\n%s", strings.Join(log, "\n"))
	}
	kinds := []EventKind{}
	for _, e := range events {
		kinds = append(kinds, e.Kind)
		if e.Kind == EventDropped && e.Octets != len("NOOP\r\n") {
			t.Errorf("dropped %d octets", e.Octets)
		}
	}
	if !slices.Equal(kinds, []EventKind{EventDropped, EventClientHello, EventTLS, EventClosed}) {
		t.Errorf("events = %v", kinds)
	}
	if n := strings.Count(strings.Join(log, "\n"), "C: NOOP"); n != 1 {
		t.Errorf("NOOP recorded %d times, want once (the one inside TLS)", n)
	}
}

func TestRefusalWith421EndsTheSession(t *testing.T) {
	f := serve(t, Endpoint{}, func(r *recorder) {
		r.refuse = func(cmd Command) []string {
			if cmd.Verb == "MAIL" {
				return []string{"421 4.3.2 going away"}
			}
			if cmd.Verb == "VRFY" {
				return []string{"252 2.5.0 maybe"}
			}
			return nil
		}
	})
	c := dial(t, f)
	rec := f.recorder(t)
	c.want("EHLO client", 250)
	c.want("VRFY someone", 252)
	c.want("MAIL FROM:<a@example.test>", 421)
	if !c.closedByServer() {
		t.Error("the session went on after 421")
	}
	rec.waitClosed(t)
	log, _ := rec.snapshot()
	if !slices.Contains(log, "S: 421 4.3.2 going away") {
		t.Errorf("transcript:\n%s", strings.Join(log, "\n"))
	}
}

func TestImplicitTLS(t *testing.T) {
	f := serve(t, Endpoint{ImplicitTLS: true, Mechanisms: []string{"PLAIN"}, RequireTLS: true}, nil)
	conn, err := tls.Dial("tcp", f.addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &client{t: t, conn: conn, text: textproto.NewConn(conn)}
	c.want("", 220)
	if ehlo := c.want("EHLO client", 250); strings.Contains(ehlo, "STARTTLS") || !strings.Contains(ehlo, "AUTH PLAIN") {
		t.Errorf("EHLO: %q", ehlo)
	}
	c.want("STARTTLS", 503)
}

func TestDetectImplicitTLS(t *testing.T) {
	f := serve(t, Endpoint{DetectImplicitTLS: true}, nil)
	conn, err := tls.Dial("tcp", f.addr, &tls.Config{InsecureSkipVerify: true, ServerName: "smtp.example.test"})
	if err == nil {
		conn.Close()
		t.Fatal("a handshake succeeded after the plaintext greeting")
	}
	rec := f.recorder(t)
	rec.waitClosed(t)
	_, events := rec.snapshot()
	if len(events) < 2 || events[0].Kind != EventImplicitTLS || events[1].Kind != EventClientHello ||
		events[1].Hello.ServerName != "smtp.example.test" {
		t.Errorf("events = %+v", events)
	}
}

func TestCloseEndsOpenConnections(t *testing.T) {
	f := serve(t, Endpoint{}, nil)
	c := dial(t, f)
	rec := f.recorder(t)
	done := make(chan error, 1)
	go func() { done <- f.srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if !c.closedByServer() {
		t.Error("the connection survived Close")
	}
	_, events := rec.snapshot()
	if len(events) != 2 || events[0].Kind != EventInputEnded || !errors.Is(events[0].Err, ErrServerClosed) || events[1].Kind != EventClosed {
		t.Errorf("events = %+v", events)
	}
	if conn, err := net.DialTimeout("tcp", f.addr, time.Second); err == nil {
		conn.Close()
		t.Error("the server still accepts connections after Close")
	}
}

func TestCRAMMD5Exchange(t *testing.T) {
	f := serve(t, Endpoint{Mechanisms: []string{"CRAM-MD5", "X-UNKNOWN"}}, func(r *recorder) {
		r.check = func(cred Credentials) error {
			if cred.Matches("tanstaaftanstaaf") {
				return nil
			}
			return msreply.AuthUnsuccessful("mx.example.test")
		}
	})
	c := dial(t, f)
	c.want("EHLO client", 250)
	// Offered but not a mechanism the front runs; not offered at all.
	c.want("AUTH X-UNKNOWN", 504)
	c.want("AUTH PLAIN", 504)
	for _, secret := range []string{"wrong", "tanstaaftanstaaf"} {
		encoded := c.want("AUTH CRAM-MD5", 334)
		challenge, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || !strings.HasPrefix(string(challenge), "<") || !strings.HasSuffix(string(challenge), "@mx.example.test>") {
			t.Fatalf("challenge %q (%v)", challenge, err)
		}
		mac := hmac.New(md5.New, []byte(secret))
		mac.Write(challenge)
		code := 535
		if secret != "wrong" {
			code = 235
		}
		c.want(b64("tim "+hex.EncodeToString(mac.Sum(nil))), code)
	}
}

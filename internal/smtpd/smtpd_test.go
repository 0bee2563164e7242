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
	conn   *Conn                   // the connection it handles

	mu       sync.Mutex
	log      []string // "C: ...", "S: ...", "event ..." in order
	commands []string
	creds    []Credentials
	messages []string
	events   []Event
	// rcptTLS holds, for each RCPT, what Conn.TLSConnectionState said.
	rcptTLS []rcptTLS
}

// rcptTLS is the connection's TLS state at a RCPT.
type rcptTLS struct {
	state tls.ConnectionState
	ok    bool
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
func (r *recorder) Rcpt(string) error {
	state, ok := r.conn.TLSConnectionState()
	r.add(func() { r.rcptTLS = append(r.rcptTLS, rcptTLS{state: state, ok: ok}) })
	return nil
}

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
	ep.Backend = BackendFunc(func(c *Conn) Handler {
		r := &recorder{closed: make(chan struct{}), conn: c}
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
	// Without TLS each response is also reported as credentials sent in
	// clear (EventCredentialsInClear).
	inClear := fmt.Sprintf("event %d", EventCredentialsInClear)
	for _, s := range []string{"C: AUTH PLAIN ****", "C: AUTH LOGIN ****",
		"S: 334 UGFzc3dvcmQ6\nC: ****\n" + inClear + "\nS: 235 2.7.0 Authentication successful"} {
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
	// The AUTH PLAIN with an initial response before TLS sent
	// credentials in clear.
	if !slices.Equal(kinds, []EventKind{EventCredentialsInClear, EventDropped, EventClientHello, EventTLS, EventClosed}) {
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

// A misconfigured device sends AUTH before STARTTLS, gets 504, and sends
// its user name and password anyway; each line then gets "unrecognized
// command". None of it may be written down or echoed, in any spelling of
// AUTH.
func TestAuthResponsesOutOfTurnAreMasked(t *testing.T) {
	const user, secret = "scanner@example.test", "Pa55-Out-0f-Turn"
	plain := b64("\x00" + user + "\x00" + secret)
	f := serve(t, Endpoint{Mechanisms: []string{"LOGIN", "PLAIN"}, RequireTLS: true, RequireAuth: true}, nil)
	for _, script := range [][]string{
		{"AUTH LOGIN", b64(user), b64(secret)},
		{"auth login", b64(user), b64(secret)},
		{"AUTH   LOGIN   " + b64(user), b64(secret)},
		{"auth\tplain\t" + plain},
		{"AUTH PLAIN", plain},
	} {
		c := dial(t, f)
		rec := f.recorder(t)
		c.want("EHLO client", 250)
		for _, line := range script {
			// 504 for AUTH before STARTTLS, 500 for a line go-smtp cannot
			// read as a command.
			if err := c.text.PrintfLine("%s", line); err != nil {
				t.Fatal(err)
			}
			code, msg, _ := c.text.ReadResponse(0)
			if code < 500 || strings.Contains(msg, secret) || strings.Contains(msg, b64(secret)) || strings.Contains(msg, plain) {
				t.Errorf("%q: %d %q", line, code, msg)
			}
		}
		// The next command is a command again, and shown as it is.
		c.want("MAIL FROM:<a@example.test>", 451)
		c.want("QUIT", 221)
		rec.waitClosed(t)
		log, _ := rec.snapshot()
		joined := strings.Join(log, "\n")
		for _, s := range []string{secret, b64(secret), strings.TrimRight(b64(secret), "="), plain, b64(user)} {
			if strings.Contains(joined, s) {
				t.Errorf("%q: the transcript shows %q:\n%s", script, s, joined)
			}
		}
		if !strings.Contains(joined, "C: MAIL FROM:<a@example.test>") {
			t.Errorf("%q: the command after the credentials is not shown:\n%s", script, joined)
		}
	}
}

// Credentials sent without TLS are reported with the user name they
// name, never the password.
func TestCredentialsInClearAreReported(t *testing.T) {
	const user, secret = "scanner@example.test", "Pa55-In-C1ear"
	f := serve(t, Endpoint{Mechanisms: []string{"LOGIN"}, RequireTLS: true}, nil)
	c := dial(t, f)
	rec := f.recorder(t)
	c.want("EHLO client", 250)
	c.want("AUTH LOGIN", 504)
	c.want(b64(user), 500)
	c.want(b64(secret), 500)
	c.want("AUTH PLAIN "+b64("\x00other@example.test\x00"+secret), 504)
	c.want("QUIT", 221)
	rec.waitClosed(t)
	_, events := rec.snapshot()
	var users []string
	for _, e := range events {
		if e.Kind == EventCredentialsInClear {
			users = append(users, e.User)
		}
	}
	// LOGIN's first response is the user name, its second the password.
	if !slices.Equal(users, []string{user, "", "other@example.test"}) {
		t.Errorf("EventCredentialsInClear users = %q", users)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Equal(rec.commands, []string{"EHLO", "AUTH", "", "", "AUTH", "QUIT"}) {
		t.Errorf("commands = %q", rec.commands)
	}
}

func TestSASLUser(t *testing.T) {
	for _, tc := range []struct {
		mech, response string
		index          int
		want           string
	}{
		{"PLAIN", b64("\x00u@example.test\x00pw"), 0, "u@example.test"},
		{"PLAIN", b64("admin\x00u@example.test\x00pw"), 0, "u@example.test"},
		{"PLAIN", b64("pw-only"), 0, ""},
		{"LOGIN", b64("u@example.test"), 0, "u@example.test"},
		{"LOGIN", b64("the password"), 1, ""},
		{"XOAUTH2", b64("user=u@example.test\x01auth=Bearer tok\x01\x01"), 0, "u@example.test"},
		{"CRAM-MD5", b64("tim b913a602c7eda7a495b4e6e7334d3890"), 0, "tim"},
		{"LOGIN", "not base64!", 0, ""},
		{"LOGIN", b64("two words"), 0, ""},
		{"LOGIN", b64("\x00\x01binary"), 0, ""},
	} {
		if got := saslUser(tc.mech, tc.response, tc.index); got != tc.want {
			t.Errorf("saslUser(%s, %q, %d) = %q, want %q", tc.mech, tc.response, tc.index, got, tc.want)
		}
	}
}

// serveWith is serve with a Config of the test's and a record of each
// connection's Refusal.
func serveWith(t *testing.T, cfg Config, ep Endpoint) (*fixture, chan []string) {
	t.Helper()
	cert, err := pki.SelfSigned(pki.LeafOptions{Names: []string{"mx.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{addr: nl.Addr().String(), recs: make(chan *recorder, 16)}
	refusals := make(chan []string, 16)
	cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	f.srv = NewServer(cfg)
	ep.Hostname = "mx.example.test"
	ep.Backend = BackendFunc(func(c *Conn) Handler {
		r := &recorder{closed: make(chan struct{})}
		refusals <- c.Refusal()
		f.recs <- r
		return r
	})
	f.srv.Serve(nl, &ep)
	t.Cleanup(func() { f.srv.Close() })
	return f, refusals
}

// A connection beyond MaxConnections gets 421 4.3.2 in place of the
// greeting; its Handler knows, and a place that frees up is served again.
func TestMaxConnections(t *testing.T) {
	f, refusals := serveWith(t, Config{MaxConnections: 2}, Endpoint{})
	first, second := dial(t, f), dial(t, f)
	<-refusals
	<-refusals
	f.recorder(t)
	f.recorder(t)

	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	text := textproto.NewConn(conn)
	code, msg, _ := text.ReadResponse(0)
	if code != 421 || !strings.HasPrefix(msg, "4.3.2 ") {
		t.Fatalf("third connection: %d %q", code, msg)
	}
	if _, err := text.ReadLine(); err == nil {
		t.Error("the refused connection stayed open")
	}
	if r := <-refusals; len(r) != 1 || r[0] != TooManyConnections {
		t.Errorf("Refusal = %q", r)
	}
	third := f.recorder(t)
	third.waitClosed(t)
	log, _ := third.snapshot()
	if !slices.Contains(log, "S: "+TooManyConnections) {
		t.Errorf("transcript:\n%s", strings.Join(log, "\n"))
	}

	first.want("QUIT", 221)
	second.want("EHLO client", 250)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The first one's place frees up once its connection is closed.
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		code, _, _ := textproto.NewConn(c).ReadResponse(0)
		c.Close()
		<-refusals
		if code == 220 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a freed place was not given to a new connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recordingConn keeps what the client reads from the wire.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	got []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.got = append(c.got, p[:n]...)
	c.mu.Unlock()
	return n, err
}

// After 221 the server ends the TLS session with close_notify (RFC 8446
// section 6.1) before it closes the connection.
func TestCloseNotifyAfterQuit(t *testing.T) {
	f := serve(t, Endpoint{}, nil)
	c := dial(t, f)
	c.want("EHLO client", 250)
	c.want("STARTTLS", 220)
	raw := &recordingConn{Conn: c.conn}
	// TLS 1.2 leaves record types visible: an alert is content type 21.
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.text = tc, textproto.NewConn(tc)
	c.want("EHLO client", 250)
	c.want("QUIT", 221)
	if _, err := io.ReadAll(tc); err != nil {
		t.Fatalf("after 221: %v", err)
	}
	raw.mu.Lock()
	defer raw.mu.Unlock()
	last := -1
	for b := raw.got; len(b) >= 5; {
		n := int(b[3])<<8 | int(b[4])
		if len(b) < 5+n {
			break
		}
		last = int(b[0])
		b = b[5+n:]
	}
	if last != 21 {
		t.Errorf("the last record the server sent has content type %d, want an alert (21): no close_notify", last)
	}
}

// plaintextAlertConn plays an OpenSSL client that refuses the server's
// certificate under TLS 1.3: it sends its alert as a plaintext record.
type plaintextAlertConn struct {
	net.Conn
	writes int
}

func (c *plaintextAlertConn) Write(p []byte) (int, error) {
	c.writes++
	if c.writes == 1 {
		return c.Conn.Write(p) // the ClientHello
	}
	// unknown_ca (48), fatal (2), in a plaintext record (RFC 8446
	// section 5.1: content type 21, legacy version 3,3).
	c.Conn.Write([]byte{21, 3, 3, 0, 2, 2, 48})
	return len(p), nil
}

func TestPlaintextAlertUnderTLS13(t *testing.T) {
	f := serve(t, Endpoint{}, nil)
	c := dial(t, f)
	rec := f.recorder(t)
	c.want("EHLO client", 250)
	c.want("STARTTLS", 220)
	tc := tls.Client(&plaintextAlertConn{Conn: c.conn}, &tls.Config{MinVersion: tls.VersionTLS13, ServerName: "mx.example.test"})
	if err := tc.Handshake(); err == nil {
		t.Fatal("a self-signed certificate verified")
	}
	rec.waitClosed(t)
	_, events := rec.snapshot()
	i := slices.IndexFunc(events, func(e Event) bool { return e.Kind == EventHandshakeFailed })
	if i < 0 {
		t.Fatalf("no EventHandshakeFailed: %+v", events)
	}
	if msg := events[i].Err.Error(); !strings.Contains(msg, "unknown_ca") {
		t.Errorf("handshake error %q does not name the client's alert", msg)
	}
	if a := events[i].Alert; a == nil || a.Description != 48 || a.Name() != "unknown_ca" {
		t.Errorf("Alert = %+v", a)
	}
}

func TestPlaintextAlertParser(t *testing.T) {
	hello := []byte{22, 3, 1, 0, 3, 1, 2, 3}
	ccs := []byte{20, 3, 3, 0, 1, 1}
	alert := []byte{21, 3, 3, 0, 2, 2, 42}
	encrypted := []byte{23, 3, 3, 0, 4, 9, 9, 9, 9}
	join := func(parts ...[]byte) []byte { return slices.Concat(parts...) }
	if a := plaintextAlert(join(hello, ccs, alert)); a == nil || a.Description != 42 || a.Name() != "bad_certificate" {
		t.Errorf("alert after CCS: %+v", a)
	}
	for _, b := range [][]byte{join(hello, ccs, encrypted), join(hello, alert[:6]), {0x47, 0x45, 0x54, 0x20, 0x2f}, nil} {
		if a := plaintextAlert(b); a != nil {
			t.Errorf("plaintextAlert(% x) = %+v", b, a)
		}
	}
}

// A client that stops in the middle of the message text is reported as
// such, with what had arrived of it.
func TestInputEndedInMessage(t *testing.T) {
	f := serve(t, Endpoint{}, nil)
	c := dial(t, f)
	rec := f.recorder(t)
	c.want("EHLO client", 250)
	c.want("MAIL FROM:<a@example.test>", 250)
	c.want("RCPT TO:<b@example.test>", 250)
	c.want("DATA", 354)
	c.write("Subject: half\r\n\r\nfirst part\r\n")
	c.conn.Close()
	rec.waitClosed(t)
	_, events := rec.snapshot()
	i := slices.IndexFunc(events, func(e Event) bool { return e.Kind == EventInputEnded })
	if i < 0 || !events[i].InMessage || events[i].Octets != len("Subject: half\r\n\r\nfirst part\r\n") {
		t.Errorf("events = %+v", events)
	}
}

// StopAccepting closes the listening socket and lets open sessions go on.
func TestStopAccepting(t *testing.T) {
	f := serve(t, Endpoint{}, nil)
	c := dial(t, f)
	f.srv.StopAccepting()
	if conn, err := net.DialTimeout("tcp", f.addr, time.Second); err == nil {
		conn.Close()
		t.Error("a connection was accepted after StopAccepting")
	}
	c.want("EHLO client", 250)
	c.want("QUIT", 221)
}

// An endpoint's ClientAuth asks for a client certificate, which the
// Handler reads from Conn.TLSConnectionState; without it none is asked
// for.
func TestClientCertificate(t *testing.T) {
	clientCert, err := pki.SelfSigned(pki.LeafOptions{Names: []string{"relay.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		clientAuth tls.ClientAuthType
		present    bool // the client has a certificate to give
		wantAsked  bool
		wantPeer   string // the common name the Handler sees, "" for none
	}{
		{"not asked", tls.NoClientCert, true, false, ""},
		{"asked and given", tls.RequestClientCert, true, true, "relay.example.test"},
		{"asked, none given", tls.RequestClientCert, false, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := serve(t, Endpoint{ClientAuth: tc.clientAuth}, nil)
			c := dial(t, f)
			rec := f.recorder(t)
			c.want("EHLO client", 250)
			c.want("MAIL FROM:<a@example.test>", 250)
			c.want("RCPT TO:<b@example.test>", 250)
			c.want("STARTTLS", 220)
			asked := false
			tlsConn := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true,
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
					asked = true
					if !tc.present {
						return &tls.Certificate{}, nil
					}
					return &clientCert, nil
				}})
			if err := tlsConn.Handshake(); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			c.conn, c.text = tlsConn, textproto.NewConn(tlsConn)
			c.want("EHLO client", 250)
			c.want("MAIL FROM:<a@example.test>", 250)
			c.want("RCPT TO:<b@example.test>", 250)
			c.want("QUIT", 221)
			rec.waitClosed(t)
			if asked != tc.wantAsked {
				t.Errorf("asked for a client certificate: %v, want %v", asked, tc.wantAsked)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.rcptTLS) != 2 {
				t.Fatalf("%d RCPT calls, want 2", len(rec.rcptTLS))
			}
			if before := rec.rcptTLS[0]; before.ok || before.state.Version != 0 {
				t.Errorf("before STARTTLS: TLSConnectionState() = %v, %v; want none", before.state.Version, before.ok)
			}
			after := rec.rcptTLS[1]
			if !after.ok || after.state.Version < tls.VersionTLS12 {
				t.Fatalf("after STARTTLS: TLSConnectionState() = %v, %v; want TLS", after.state.Version, after.ok)
			}
			peer := ""
			if len(after.state.PeerCertificates) > 0 {
				peer = after.state.PeerCertificates[0].Subject.CommonName
			}
			if peer != tc.wantPeer {
				t.Errorf("client certificate %q, want %q", peer, tc.wantPeer)
			}
		})
	}
}

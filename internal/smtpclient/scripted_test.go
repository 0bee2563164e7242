package smtpclient

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// exchange is one turn of a scripted server: the line it expects from the
// client, and what it answers. An expect of messageData reads the message
// up to the lone "." and compares it with data.
type exchange struct {
	expect string
	reply  string
	data   string
}

const messageData = "<message>"

// scriptedServer accepts one connection on 127.0.0.1 and hands it to
// handle; it returns the port. The connection is closed when handle
// returns, and the test waits for handle.
func scriptedServer(t *testing.T, handle func(conn net.Conn, r *bufio.Reader)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		handle(conn, bufio.NewReader(conn))
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return l.Addr().(*net.TCPAddr).Port
}

// script runs a server that sends banner, then plays the exchanges in
// order, reporting any line the client sent that the script did not expect.
func script(t *testing.T, banner string, exchanges []exchange) int {
	t.Helper()
	return scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte(banner))
		for _, ex := range exchanges {
			if ex.expect == messageData {
				var lines []string
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						t.Errorf("server: reading the message: %v", err)
						return
					}
					if line == ".\r\n" {
						break
					}
					lines = append(lines, line)
				}
				if got := strings.Join(lines, ""); got != ex.data {
					t.Errorf("server got message\n%q\nwant\n%q", got, ex.data)
				}
			} else {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Errorf("server: waiting for %q: %v", ex.expect, err)
					return
				}
				if line != ex.expect+"\r\n" {
					t.Errorf("server got %q, want %q", line, ex.expect+"\r\n")
					return
				}
			}
			conn.Write([]byte(ex.reply))
		}
		// The client must hang up now; anything else is unexpected.
		if line, err := r.ReadString('\n'); err == nil {
			t.Errorf("server got %q after the script ended", line)
		}
	})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestTranscript compares the whole transcript of a conversation with a
// scripted server, in the manner of net/smtp's tests.
func TestTranscript(t *testing.T) {
	port := script(t, "220-mx.contoso.example ESMTP\r\n220 2.0.0 ready [08DCE8B62813AB2B]\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250-mx.contoso.example Hello [192.0.2.7]\r\n250-SIZE 157286400\r\n250-AUTH LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n", ""},
		{"AUTH LOGIN", "334 VXNlcm5hbWU6\r\n", ""},
		{b64(testUser), "334 UGFzc3dvcmQ6\r\n", ""},
		{b64(testPassword), "235 2.7.0 Authentication successful\r\n", ""},
		{"MAIL FROM:<scanner@contoso.example>", "250 2.1.0 Sender OK\r\n", ""},
		{"RCPT TO:<gone@contoso.example>", "550-Recipient address rejected\r\n550-5.1.1 User unknown in virtual mailbox table\r\n550 5.1.1 see https://example.test/\r\n", ""},
		{"RCPT TO:<helpdesk@contoso.example>", "250 2.1.5 Recipient OK\r\n", ""},
		{"DATA", "354 Start mail input; end with <CRLF>.<CRLF>\r\n", ""},
		{messageData, "250 2.6.0 <id@contoso.example> Queued mail for delivery\r\n", "" +
			"Date: Fri, 20 Nov 2026 09:30:00 +0000\r\n" +
			"From: scanner@contoso.example\r\n" +
			"To: gone@contoso.example, helpdesk@contoso.example\r\n" +
			"Subject: smtpdiag acceptance test\r\n" +
			"Message-ID: <test-1@scanner01.contoso.example>\r\n" +
			"MIME-Version: 1.0\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n" +
			"Content-Transfer-Encoding: 7bit\r\n" +
			"\r\n" +
			"Sent by the cutover suite.\r\n" +
			"..\r\n"},
		{"QUIT", "221 2.0.0 Service closing transmission channel\r\n", ""},
	})
	plan := basePlan(port)
	plan.TLS = NoTLS
	plan.Auth = &Auth{Username: testUser, Password: testPassword}
	plan.MailFrom = ptr("scanner@contoso.example")
	plan.RcptTo = []string{"gone@contoso.example", "helpdesk@contoso.example"}
	plan.Message = &Message{Subject: "smtpdiag acceptance test", Body: "Sent by the cutover suite.\r\n.\r\n", MessageID: "test-1@scanner01.contoso.example"}
	conv := Converse(context.Background(), plan)
	if !conv.PlaintextAuth {
		t.Error("credentials sent without TLS, and the record does not say so")
	}

	got := transcriptText(conv)
	got = strings.ReplaceAll(got, conv.RemoteAddr, "SERVER")
	got = strings.ReplaceAll(got, conv.LocalAddr, "CLIENT")
	const want = `*: connecting to SERVER
*: connected to SERVER from CLIENT
S: 220-mx.contoso.example ESMTP
S: 220 2.0.0 ready [08DCE8B62813AB2B]
C: EHLO scanner01.contoso.example
S: 250-mx.contoso.example Hello [192.0.2.7]
S: 250-SIZE 157286400
S: 250-AUTH LOGIN
S: 250 ENHANCEDSTATUSCODES
*: AUTH LOGIN without TLS (tls = "none"): the credentials cross the network unencrypted
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: ****
S: 334 UGFzc3dvcmQ6
C: ****
S: 235 2.7.0 Authentication successful
C: MAIL FROM:<scanner@contoso.example>
S: 250 2.1.0 Sender OK
C: RCPT TO:<gone@contoso.example>
S: 550-Recipient address rejected
S: 550-5.1.1 User unknown in virtual mailbox table
S: 550 5.1.1 see https://example.test/
C: RCPT TO:<helpdesk@contoso.example>
S: 250 2.1.5 Recipient OK
C: DATA
S: 354 Start mail input; end with <CRLF>.<CRLF>
C: Date: Fri, 20 Nov 2026 09:30:00 +0000
C: From: scanner@contoso.example
C: To: gone@contoso.example, helpdesk@contoso.example
C: Subject: smtpdiag acceptance test
C: Message-ID: <test-1@scanner01.contoso.example>
C: MIME-Version: 1.0
C: Content-Type: text/plain; charset=utf-8
C: Content-Transfer-Encoding: 7bit
C: 
C: Sent by the cutover suite.
C: ..
C: .
S: 250 2.6.0 <id@contoso.example> Queued mail for delivery
C: QUIT
S: 221 2.0.0 Service closing transmission channel
`
	if got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
	if got, want := stepList(conv), "connect banner ehlo auth mail rcpt rcpt data message quit"; got != want {
		t.Errorf("steps = %q, want %q", got, want)
	}
	banner := conv.Steps[1].Reply
	if banner.Enhanced != "2.0.0" || !slices.Equal(banner.Lines, []string{"mx.contoso.example ESMTP", "ready [08DCE8B62813AB2B]"}) {
		t.Errorf("banner = %#v", banner)
	}
	rejected := conv.StepsOf(result.StepRcpt)[0].Reply
	if rejected.Code != 550 || rejected.Enhanced != "5.1.1" ||
		!slices.Equal(rejected.Lines, []string{"Recipient address rejected", "User unknown in virtual mailbox table", "see https://example.test/"}) {
		t.Errorf("rejected RCPT = %#v", rejected)
	}
	if conv.ClientIP != "192.0.2.7" {
		t.Errorf("ClientIP = %q", conv.ClientIP)
	}
	if !slices.Equal(conv.EHLOBeforeTLS.Lines(), []string{"SIZE 157286400", "AUTH LOGIN", "ENHANCEDSTATUSCODES"}) || conv.EHLOAfterTLS != nil {
		t.Errorf("EHLO before %q after %q", conv.EHLOBeforeTLS, conv.EHLOAfterTLS)
	}
}

func TestHELOFallback(t *testing.T) {
	port := script(t, "220 old.example\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "502 5.5.1 Command not implemented\r\n", ""},
		{"HELO scanner01.contoso.example", "250 old.example Hello [IPv6:2001:db8::25]\r\n", ""},
		{"MAIL FROM:<scanner@contoso.example>", "250 ok\r\n", ""},
		{"RSET", "250 ok\r\n", ""},
		{"QUIT", "221 bye\r\n", ""},
	})
	plan := basePlan(port)
	plan.TLS = NoTLS
	plan.MailFrom = ptr("scanner@contoso.example")
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo ehlo mail rset quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	ehlos := conv.StepsOf(result.StepEHLO)
	if ehlos[0].Command != "EHLO scanner01.contoso.example" || ehlos[0].Reply.Code != 502 ||
		ehlos[1].Command != "HELO scanner01.contoso.example" || ehlos[1].Reply.Code != 250 {
		t.Errorf("EHLO steps %+v %+v", ehlos[0], ehlos[1])
	}
	if !conv.UsedHELO || conv.Stop() != nil {
		t.Errorf("UsedHELO %v, stop %v", conv.UsedHELO, conv.Stop())
	}
	if conv.EHLOBeforeTLS == nil || len(conv.EHLOBeforeTLS) != 0 {
		t.Errorf("EHLOBeforeTLS = %#v, want empty and not nil", conv.EHLOBeforeTLS)
	}
	if conv.ClientIP != "2001:db8::25" {
		t.Errorf("ClientIP = %q", conv.ClientIP)
	}
}

func TestStartTLSNotAdvertised(t *testing.T) {
	port := script(t, "220 mx.example\r\n", []exchange{
		{"EHLO localhost", "250-mx.example\r\n250 SIZE 1000\r\n", ""},
		{"QUIT", "221 2.0.0 bye\r\n", ""},
	})
	plan := basePlan(port)
	plan.Helo = ""
	plan.MailFrom = ptr("scanner@contoso.example")
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo starttls quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	stop := conv.Stop()
	if stop.Step != result.StepStartTLS || stop.Command != "" || stop.Fault == nil ||
		stop.Fault.Kind != result.FaultNotAdvertised || stop.Fault.Message != "server does not advertise STARTTLS" {
		t.Errorf("stop = %+v", stop)
	}
	if q := conv.Last(); q.Reply == nil || q.Reply.Code != 221 {
		t.Errorf("QUIT = %+v", q)
	}
}

func TestStartTLSInjection(t *testing.T) {
	port := script(t, "220 mx.example\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250-mx.example\r\n250 STARTTLS\r\n", ""},
		// A man in the middle appends a reply to the plaintext 220, hoping
		// the client reads it as if it came through TLS.
		{"STARTTLS", "220 2.0.0 Ready\r\n250-mx.example\r\n250 AUTH PLAIN\r\n", ""},
	})
	plan := basePlan(port)
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo starttls"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	s := conv.Last()
	if s.Fault == nil || s.Fault.Kind != result.FaultInjection || s.Fault.Bytes != `"250-mx.example\r\n250 AUTH PLAIN\r\n"` ||
		s.Reply == nil || s.Reply.Code != 220 {
		t.Errorf("starttls step = %+v %+v", s.Fault, s.Reply)
	}
	if conv.Stop() != s || conv.TLS != nil {
		t.Errorf("stop %v, TLS %v", conv.Stop(), conv.TLS)
	}
}

func TestMalformedReply(t *testing.T) {
	port := script(t, "220 mx.example\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250-mx.example\r\n550 STARTTLS\r\n", ""},
	})
	conv := Converse(context.Background(), basePlan(port))
	if got, want := stepList(conv), "connect banner ehlo"; got != want {
		t.Fatalf("steps = %q, want %q", got, want)
	}
	f := conv.Last().Fault
	if f == nil || f.Kind != result.FaultMalformed || f.Message != "EHLO: code 550 after 250 in one reply" || f.Bytes != `"550 STARTTLS"` {
		t.Errorf("fault = %+v", f)
	}
	if !strings.HasSuffix(transcriptText(conv), "S: 250-mx.example\n*: malformed: EHLO: code 550 after 250 in one reply: \"550 STARTTLS\"\n") {
		t.Errorf("transcript:\n%s", transcriptText(conv))
	}
}

func TestDataWithoutGoAhead(t *testing.T) {
	port := script(t, "220 mx.example\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250 mx.example\r\n", ""},
		{"MAIL FROM:<a@contoso.example>", "250 ok\r\n", ""},
		{"RCPT TO:<b@contoso.example>", "250 ok\r\n", ""},
		{"DATA", "250 ok\r\n", ""},
	})
	plan := basePlan(port)
	plan.TLS = NoTLS
	plan.MailFrom = ptr("a@contoso.example")
	plan.RcptTo = []string{"b@contoso.example"}
	plan.Message = &Message{Body: "never sent"}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rcpt data"; got != want {
		t.Fatalf("steps = %q, want %q", got, want)
	}
	if f := conv.Last().Fault; f == nil || f.Message != "unexpected 250 reply to DATA" {
		t.Errorf("fault = %+v", f)
	}
	if strings.Contains(transcriptText(conv), "never sent") {
		t.Error("the message was sent without a 354")
	}
}

func TestServerCloses(t *testing.T) {
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.Write([]byte("220 mx.example\r\n"))
		r.ReadString('\n')
	})
	conv := Converse(context.Background(), basePlan(port))
	f := conv.Last().Fault
	if f == nil || f.Kind != result.FaultClosed || f.Message != "connection closed by the server at EHLO" {
		t.Errorf("fault = %+v", f)
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conv := Converse(context.Background(), basePlan(port))
	if got, want := stepList(conv), "connect"; got != want {
		t.Fatalf("steps = %q, want %q", got, want)
	}
	if f := conv.Last().Fault; f == nil || f.Kind != result.FaultRefused {
		t.Errorf("fault = %+v", f)
	}
	if conv.RemoteAddr != "" {
		t.Errorf("RemoteAddr = %q", conv.RemoteAddr)
	}
}

func TestBadSourceAddress(t *testing.T) {
	plan := basePlan(25)
	plan.SourceAddress = "not-an-ip"
	conv := Converse(context.Background(), plan)
	if f := conv.Last().Fault; f == nil || f.Kind != result.FaultNetwork || f.Message != `source address "not-an-ip" is not an IP address` {
		t.Errorf("fault = %+v", f)
	}
}

func TestSourceAddressAndIPVersion(t *testing.T) {
	port := script(t, "220 mx.example\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250 mx.example\r\n", ""},
		{"QUIT", "221 bye\r\n", ""},
	})
	plan := basePlan(port)
	plan.TLS = NoTLS
	plan.SourceAddress = "127.0.0.1"
	plan.IPVersion = 4
	conv := Converse(context.Background(), plan)
	if conv.Stop() != nil || !strings.HasPrefix(conv.LocalAddr, "127.0.0.1:") {
		t.Errorf("stop %v, local %q", conv.Stop(), conv.LocalAddr)
	}
}

func TestDialFaultKinds(t *testing.T) {
	c := NewClient(Plan{Host: "mx.invalid", Timeout: time.Second})
	dnsErr := &net.OpError{Op: "dial", Err: &net.DNSError{Name: "mx.invalid", Err: "no such host", IsNotFound: true}}
	if f := c.dialFault(context.Background(), dnsErr, "mx.invalid:25"); f.Kind != result.FaultResolve || f.Message != "cannot resolve mx.invalid: no such host" {
		t.Errorf("DNS fault = %+v", f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if f := c.dialFault(ctx, context.Canceled, "mx.invalid:25"); f.Kind != result.FaultCanceled {
		t.Errorf("canceled fault = %+v", f)
	}
}

// TestBannerTimeout: a server that accepts and never speaks must not hold
// the conversation longer than the step timeout.
func TestBannerTimeout(t *testing.T) {
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		r.ReadString('\n') // returns when the client hangs up
	})
	plan := basePlan(port)
	plan.Timeout = 300 * time.Millisecond
	plan.Now = nil
	start := time.Now()
	conv := Converse(context.Background(), plan)
	elapsed := time.Since(start)
	if elapsed < 300*time.Millisecond || elapsed > time.Second {
		t.Errorf("took %v, want about 300ms", elapsed)
	}
	if got, want := stepList(conv), "connect banner"; got != want {
		t.Fatalf("steps = %q, want %q", got, want)
	}
	if f := conv.Last().Fault; f == nil || f.Kind != result.FaultTimeout || f.Message != "no banner within 300ms" {
		t.Errorf("fault = %+v", f)
	}
	if d := conv.Last().Duration; d < 300*time.Millisecond {
		t.Errorf("banner step lasted %v", d)
	}
}

// TestDripFeedTimeout: the timeout bounds a step as a whole, so a server
// that sends one byte every 100ms cannot keep the client forever.
func TestDripFeedTimeout(t *testing.T) {
	done := make(chan struct{})
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.Write([]byte("220 mx.example\r\n"))
		r.ReadString('\n')
		for {
			if _, err := conn.Write([]byte("2")); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	defer close(done)
	plan := basePlan(port)
	plan.Timeout = 500 * time.Millisecond
	plan.Now = nil
	start := time.Now()
	conv := Converse(context.Background(), plan)
	elapsed := time.Since(start)
	if elapsed < 500*time.Millisecond || elapsed > 1200*time.Millisecond {
		t.Errorf("took %v, want about 500ms", elapsed)
	}
	if f := conv.Last().Fault; f == nil || f.Kind != result.FaultTimeout || f.Message != "no reply to EHLO within 500ms" {
		t.Errorf("fault = %+v\n%s", f, transcriptText(conv))
	}
}

func TestCancel(t *testing.T) {
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		r.ReadString('\n')
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	plan := basePlan(port)
	plan.Timeout = 10 * time.Second
	start := time.Now()
	conv := Converse(ctx, plan)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v after cancel", elapsed)
	}
	if f := conv.Last().Fault; f == nil || f.Kind != result.FaultCanceled || f.Message != "interrupted at banner" {
		t.Errorf("fault = %+v", f)
	}
}

// TestDataPrematureReply: a server that sends 354 and 250 in one write has
// not read the message; its 250 must not count as the message's reply.
func TestDataPrematureReply(t *testing.T) {
	port := script(t, "220 mx.example\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250 mx.example\r\n", ""},
		{"MAIL FROM:<a@contoso.example>", "250 ok\r\n", ""},
		{"RCPT TO:<b@contoso.example>", "250 ok\r\n", ""},
		{"DATA", "354 go ahead\r\n250 2.0.0 queued as 4711\r\n", ""},
	})
	plan := basePlan(port)
	plan.TLS = NoTLS
	plan.MailFrom = ptr("a@contoso.example")
	plan.RcptTo = []string{"b@contoso.example"}
	plan.Message = &Message{Body: "never sent"}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rcpt data message"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	m := conv.Last()
	if m.Reply != nil || m.Fault == nil || m.Fault.Kind != result.FaultPremature ||
		m.Fault.Bytes != `"250 2.0.0 queued as 4711\r\n"` {
		t.Errorf("message step = %+v (fault %+v)", m, m.Fault)
	}
	if strings.Contains(transcriptText(conv), "never sent") {
		t.Error("the message was sent after a premature reply")
	}
}

// TestNoCredentialsForMechanismsNotOffered: a mechanism the server does
// not offer gets no AUTH command, so no credential reaches the server,
// unless the suite forces it; the same for an XOAUTH2 token.
func TestNoCredentialsForMechanismsNotOffered(t *testing.T) {
	for _, tc := range []struct {
		name string
		auth Auth
	}{
		{"PLAIN", Auth{Username: testUser, Password: testPassword, Mechanism: "PLAIN"}},
		{"XOAUTH2", Auth{Username: testUser, Token: "eyJ0eXAiOiJKV1QiLCJhbGciOi.token", Mechanism: "XOAUTH2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The script fails the test if the client sends anything but
			// EHLO and QUIT.
			port := script(t, "220 mx.example\r\n", []exchange{
				{"EHLO scanner01.contoso.example", "250-mx.example\r\n250 AUTH CRAM-MD5\r\n", ""},
				{"QUIT", "221 bye\r\n", ""},
			})
			plan := basePlan(port)
			plan.TLS = NoTLS
			a := tc.auth
			plan.Auth = &a
			plan.MailFrom = ptr("a@contoso.example")
			conv := Converse(context.Background(), plan)
			f := conv.StepsOf(result.StepAuth)[0].Fault
			if f == nil || f.Kind != result.FaultUnsupported ||
				!strings.Contains(f.Message, tc.name+" is not among the mechanisms the server offers (CRAM-MD5); nothing was sent") {
				t.Errorf("fault %+v", f)
			}
		})
	}
	// force_mechanism = true sends it all the same, and says so.
	port := script(t, "220 mx.example\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250-mx.example\r\n250 AUTH CRAM-MD5\r\n", ""},
		{"AUTH PLAIN " + b64("\x00"+testUser+"\x00"+testPassword), "535 5.7.8 no\r\n", ""},
		{"QUIT", "221 bye\r\n", ""},
	})
	plan := basePlan(port)
	plan.TLS = NoTLS
	plan.Auth = &Auth{Username: testUser, Password: testPassword, Mechanism: "PLAIN", Force: true}
	conv := Converse(context.Background(), plan)
	if r := conv.StepsOf(result.StepAuth)[0].Reply; r == nil || r.Code != 535 || !strings.Contains(transcriptText(conv), "sending it anyway (force_mechanism = true)") {
		t.Errorf("forced AUTH: %+v\n%s", r, transcriptText(conv))
	}
}

// TestNoAuthWithoutTLS: with STARTTLS planned, a client that finds itself
// unencrypted (the handshake was skipped) sends no credentials.
func TestNoAuthWithoutTLS(t *testing.T) {
	port := script(t, "220 mx.example\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250-mx.example\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n", ""},
		{"QUIT", "221 bye\r\n", ""},
	})
	plan := basePlan(port)
	plan.Auth = &Auth{Username: testUser, Password: testPassword}
	c := NewClient(plan)
	if err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Banner()
	c.Hello()
	err := c.Auth(*plan.Auth)
	c.Close()
	var se *StepError
	if !errors.As(err, &se) || se.Fault == nil || !strings.Contains(se.Fault.Message, "AUTH refused without TLS") {
		t.Errorf("Auth without TLS: %v", err)
	}
	if c.Conversation().PlaintextAuth {
		t.Error("the record says credentials were sent")
	}
}

package simulator

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClient is a minimal SMTP client: it writes command lines and reads
// replies, nothing more, so that tests see the simulator's bytes as sent.
type testClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func startSimulator(t *testing.T, opts Options) *Simulator {
	t.Helper()
	sim, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := sim.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return sim
}

func dial(t *testing.T, addr string) *testClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return &testClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func dialTLS(t *testing.T, sim *Simulator, addr string) *testClient {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, clientTLSConfig(t, sim, "127.0.0.1"))
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return &testClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func clientTLSConfig(t *testing.T, sim *Simulator, serverName string) *tls.Config {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(sim.CAPEM) {
		t.Fatal("CAPEM holds no certificate")
	}
	return &tls.Config{RootCAs: roots, ServerName: serverName}
}

// reply reads one reply, every line without its CRLF.
func (c *testClient) reply() []string {
	c.t.Helper()
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read reply after %q: %v", lines, err)
		}
		if !strings.HasSuffix(line, "\r\n") {
			c.t.Fatalf("reply line %q does not end in CRLF", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return lines
		}
	}
}

func (c *testClient) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

// cmd sends a command and returns its reply.
func (c *testClient) cmd(line string) []string {
	c.t.Helper()
	c.send(line)
	return c.reply()
}

// expect sends a command and checks that its (single-line) reply starts
// with want.
func (c *testClient) expect(line, want string) {
	c.t.Helper()
	got := c.cmd(line)
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		c.t.Fatalf("%s: got %q, want a reply starting with %q", line, got, want)
	}
}

// startTLS sends STARTTLS and runs the handshake, verifying the
// certificate against the simulator's CA.
func (c *testClient) startTLS(sim *Simulator) tls.ConnectionState {
	c.t.Helper()
	c.expect("STARTTLS", "220 2.0.0 SMTP server ready")
	conn := tls.Client(c.conn, clientTLSConfig(c.t, sim, "127.0.0.1"))
	if err := conn.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = conn
	c.r = bufio.NewReader(conn)
	return conn.ConnectionState()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func xoauth2(user, token string) string {
	return b64("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")
}

func ehloTranscript(hostname string, middle string) string {
	return strings.Join([]string{
		"250-" + hostname + " Hello [127.0.0.1]",
		"250-SIZE 157286400",
		"250-PIPELINING",
		"250-DSN",
		"250-ENHANCEDSTATUSCODES",
		"250-" + middle,
		"250-8BITMIME",
		"250-BINARYMIME",
		"250-CHUNKING",
		"250 SMTPUTF8",
	}, "\n")
}

func TestBanner(t *testing.T) {
	sim := startSimulator(t, Options{})
	for _, tc := range []struct {
		name, addr, hostname string
	}{
		{"submission", sim.SubmissionAddr, DefaultSubmissionHostname},
		{"mx", sim.MXAddr, DefaultMXHostname},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, tc.addr)
			banner := c.reply()
			re := regexp.MustCompile(`^220 ` + regexp.QuoteMeta(tc.hostname) +
				` Microsoft ESMTP MAIL Service ready at (.+)$`)
			m := re.FindStringSubmatch(strings.Join(banner, "\n"))
			if m == nil {
				t.Fatalf("banner %q does not match %s", banner, re)
			}
			at, err := time.Parse(time.RFC1123Z, m[1])
			if err != nil {
				t.Fatalf("banner date %q: %v", m[1], err)
			}
			if d := time.Since(at); d < -time.Minute || d > time.Minute {
				t.Errorf("banner date %s is %s away from now", at, d)
			}
		})
	}
}

func TestSubmissionEHLOBeforeAndAfterSTARTTLS(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.SubmissionAddr)
	c.reply()

	before := strings.Join(c.cmd("EHLO scanner01.contoso.com"), "\n")
	if want := ehloTranscript(DefaultSubmissionHostname, "STARTTLS"); before != want {
		t.Errorf("EHLO before STARTTLS:\n%s\nwant:\n%s", before, want)
	}
	state := c.startTLS(sim)
	if state.Version < tls.VersionTLS12 {
		t.Errorf("negotiated %s, want TLS 1.2 or later", tls.VersionName(state.Version))
	}
	after := strings.Join(c.cmd("EHLO scanner01.contoso.com"), "\n")
	if want := ehloTranscript(DefaultSubmissionHostname, "AUTH LOGIN XOAUTH2"); after != want {
		t.Errorf("EHLO after STARTTLS:\n%s\nwant:\n%s", after, want)
	}
	c.expect("QUIT", "221 2.0.0 Service closing transmission channel")
}

func TestHELOGreeting(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.MXAddr)
	c.reply()
	got := c.cmd("HELO scanner01")
	want := "250 " + DefaultMXHostname + " Hello [127.0.0.1]"
	if len(got) != 1 || got[0] != want {
		t.Errorf("HELO: got %q, want %q", got, want)
	}
}

func TestMXNeverOffersAUTH(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.MXAddr)
	c.reply()

	before := strings.Join(c.cmd("EHLO scanner01.contoso.com"), "\n")
	if want := ehloTranscript(DefaultMXHostname, "STARTTLS"); before != want {
		t.Errorf("EHLO before STARTTLS:\n%s\nwant:\n%s", before, want)
	}
	c.startTLS(sim)
	after := c.cmd("EHLO scanner01.contoso.com")
	if after[0] != "250-"+DefaultMXHostname+" Hello [127.0.0.1]" {
		t.Errorf("EHLO greeting after STARTTLS: %q", after[0])
	}
	for _, line := range after {
		if strings.Contains(line, "AUTH") || strings.Contains(line, "STARTTLS") {
			t.Errorf("EHLO after STARTTLS offers %q", line)
		}
	}
	c.expect("AUTH LOGIN", "504 5.7.4 Unrecognized authentication type ["+DefaultMXHostname+"]")
	c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0 Sender OK")
}

func TestSubmissionAuthentication(t *testing.T) {
	host := DefaultSubmissionHostname
	tests := []struct {
		name   string
		script [][2]string // command, the start of the expected reply
	}{
		{"no AUTH is refused at MAIL FROM", [][2]string{
			{"MAIL FROM:<scanner@contoso.com>", "530 5.7.57 Client not authenticated to send mail. [" + host + "]"},
		}},
		{"disabled mailbox", [][2]string{
			{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
			{b64("disabled@contoso.com"), "334 UGFzc3dvcmQ6"},
			{b64("demo-password"), "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."},
			{"MAIL FROM:<disabled@contoso.com>", "530 5.7.57"},
		}},
		{"wrong password", [][2]string{
			{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
			{b64("scanner@contoso.com"), "334 UGFzc3dvcmQ6"},
			{b64("wrong"), "535 5.7.3 Authentication unsuccessful [" + host + "]"},
			{"MAIL FROM:<scanner@contoso.com>", "530 5.7.57"},
		}},
		{"wrong password for the disabled mailbox", [][2]string{
			{"AUTH LOGIN " + b64("disabled@contoso.com"), "334 UGFzc3dvcmQ6"},
			{b64("wrong"), "535 5.7.3 Authentication unsuccessful"},
		}},
		{"unknown user", [][2]string{
			{"AUTH LOGIN " + b64("nobody@contoso.com"), "334 UGFzc3dvcmQ6"},
			{b64("demo-password"), "535 5.7.3 Authentication unsuccessful"},
		}},
		{"LOGIN, then MAIL and RCPT", [][2]string{
			{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
			{b64("scanner@contoso.com"), "334 UGFzc3dvcmQ6"},
			{b64("demo-password"), "235 2.7.0 Authentication successful"},
			{"MAIL FROM:<scanner@contoso.com>", "250 2.1.0 Sender OK"},
			{"RCPT TO:<helpdesk@contoso.com>", "250 2.1.5 Recipient OK"},
			{"RCPT TO:<someone@fabrikam.com>", "250 2.1.5 Recipient OK"},
			{"RSET", "250 2.0.0 Resetting"},
		}},
		{"LOGIN with the user name as initial response, user name in another case", [][2]string{
			{"AUTH LOGIN " + b64("Scanner@Contoso.com"), "334 UGFzc3dvcmQ6"},
			{b64("demo-password"), "235 2.7.0 Authentication successful"},
			{"MAIL FROM:<scanner@contoso.com>", "250 2.1.0 Sender OK"},
		}},
		{"LOGIN cancelled", [][2]string{
			{"AUTH LOGIN", "334 VXNlcm5hbWU6"},
			{"*", "501 5.0.0"},
			{"MAIL FROM:<scanner@contoso.com>", "530 5.7.57"},
		}},
		{"XOAUTH2 with initial response", [][2]string{
			{"AUTH XOAUTH2 " + xoauth2("scanner@contoso.com", "demo-token"), "235 2.7.0 Authentication successful"},
			{"MAIL FROM:<scanner@contoso.com>", "250 2.1.0 Sender OK"},
			{"RCPT TO:<helpdesk@contoso.com>", "250 2.1.5 Recipient OK"},
		}},
		{"XOAUTH2 after an empty challenge", [][2]string{
			{"AUTH XOAUTH2", "334 "},
			{xoauth2("scanner@contoso.com", "demo-token"), "235 2.7.0 Authentication successful"},
		}},
		{"XOAUTH2 with a wrong token", [][2]string{
			{"AUTH XOAUTH2 " + xoauth2("scanner@contoso.com", "demo-password"), "535 5.7.3 Authentication unsuccessful"},
		}},
		{"XOAUTH2 for the disabled mailbox", [][2]string{
			{"AUTH XOAUTH2 " + xoauth2("disabled@contoso.com", "demo-token"), "535 5.7.139"},
		}},
		{"XOAUTH2 malformed", [][2]string{
			{"AUTH XOAUTH2 " + b64("user=scanner@contoso.com\x01auth=demo-token\x01\x01"), "535 5.7.3"},
		}},
		{"PLAIN is not offered on 587", [][2]string{
			{"AUTH PLAIN " + b64("\x00scanner@contoso.com\x00demo-password"), "504 5.7.4 Unrecognized authentication type [" + host + "]"},
		}},
		{"second AUTH", [][2]string{
			{"AUTH XOAUTH2 " + xoauth2("scanner@contoso.com", "demo-token"), "235"},
			{"AUTH XOAUTH2 " + xoauth2("scanner@contoso.com", "demo-token"), "503 5.5.1"},
		}},
	}
	sim := startSimulator(t, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, sim.SubmissionAddr)
			c.reply()
			c.cmd("EHLO scanner01.contoso.com")
			c.startTLS(sim)
			c.cmd("EHLO scanner01.contoso.com")
			for _, step := range tc.script {
				c.expect(step[0], step[1])
			}
		})
	}
}

func TestSubmissionBeforeSTARTTLS(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.SubmissionAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.expect("AUTH LOGIN", "504 5.7.4 Unrecognized authentication type")
	c.expect("MAIL FROM:<scanner@contoso.com>", "451 5.7.3 STARTTLS is required to send mail ["+DefaultSubmissionHostname+"]")
}

func TestEHLORequiredAfterSTARTTLS(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.MXAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.startTLS(sim)
	c.expect("MAIL FROM:<scanner@contoso.com>", "503 5.5.2 Send hello first")
	c.expect("NOOP", "250 2.0.0 OK")
	c.cmd("EHLO scanner01.contoso.com")
	c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0 Sender OK")
	c.expect("STARTTLS", "503 5.5.1")
}

func TestCommandsPipelinedAfterSTARTTLSAreDropped(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.MXAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	// One write: the NOOP travels in plaintext behind STARTTLS and must
	// not be answered inside the TLS session.
	if _, err := io.WriteString(c.conn, "STARTTLS\r\nNOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := c.reply(); got[0] != "220 2.0.0 SMTP server ready" {
		t.Fatalf("STARTTLS: %q", got)
	}
	conn := tls.Client(c.conn, clientTLSConfig(t, sim, "127.0.0.1"))
	if err := conn.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	c.conn, c.r = conn, bufio.NewReader(conn)
	got := c.cmd("EHLO scanner01.contoso.com")
	if !strings.HasPrefix(got[0], "250-"+DefaultMXHostname+" Hello") {
		t.Fatalf("first reply inside TLS is %q, want the EHLO reply", got)
	}
}

func TestCertificateNames(t *testing.T) {
	sim := startSimulator(t, Options{})
	for _, name := range []string{"localhost", "127.0.0.1", DefaultSubmissionHostname, DefaultMXHostname} {
		conn, err := tls.Dial("tcp", sim.ImplicitTLSAddr, clientTLSConfig(t, sim, name))
		if err != nil {
			t.Errorf("verify as %s: %v", name, err)
			continue
		}
		conn.Close()
	}
	conn, err := tls.Dial("tcp", sim.ImplicitTLSAddr, clientTLSConfig(t, sim, "smtp.fabrikam.com"))
	if err == nil {
		conn.Close()
		t.Fatal("certificate verified for smtp.fabrikam.com")
	}
	var hostErr x509.HostnameError
	if !errors.As(err, &hostErr) {
		t.Errorf("wrong name: got %v, want an x509.HostnameError", err)
	}
}

func TestOldTLSVersionsAreRefused(t *testing.T) {
	sim := startSimulator(t, Options{})
	cfg := clientTLSConfig(t, sim, "127.0.0.1")
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if conn, err := tls.Dial("tcp", sim.ImplicitTLSAddr, cfg); err == nil {
		conn.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}

	c := dial(t, sim.SubmissionAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.expect("STARTTLS", "220 2.0.0")
	if err := tls.Client(c.conn, cfg).Handshake(); err == nil {
		t.Fatal("TLS 1.1 handshake after STARTTLS succeeded")
	}
}

func TestMXRecipients(t *testing.T) {
	host := DefaultMXHostname
	tests := []struct{ rcpt, want string }{
		{"helpdesk@contoso.com", "250 2.1.5 Recipient OK"},
		{"HelpDesk@CONTOSO.COM", "250 2.1.5 Recipient OK"},
		{"blocked@contoso.com", "550 5.7.606 Access denied, banned sending IP [127.0.0.1]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) [" + host + "]"},
		{"blocked-scanner@contoso.com", "550 5.7.606 Access denied, banned sending IP [127.0.0.1]."},
		{"someone@fabrikam.com", "550 5.7.64 TenantAttribution; Relay Access Denied [" + host + "]"},
		{"busy@contoso.com", "451 4.7.500 Server busy. Please try again later from [127.0.0.1]. (S77719) [" + host + "]"},
	}
	sim := startSimulator(t, Options{})
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			c := dial(t, sim.MXAddr)
			c.reply()
			c.cmd("EHLO scanner01.contoso.com")
			if tls {
				c.startTLS(sim)
				c.cmd("EHLO scanner01.contoso.com")
			}
			c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0 Sender OK")
			for _, tc := range tests {
				got := c.cmd("RCPT TO:<" + tc.rcpt + ">")
				if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
					t.Errorf("RCPT %s: got %q, want %q", tc.rcpt, got, tc.want)
				}
				if strings.HasPrefix(tc.want, "250") && got[0] != tc.want {
					t.Errorf("RCPT %s: got %q, want exactly %q", tc.rcpt, got[0], tc.want)
				}
			}
		})
	}
}

func TestDataIsRecordedNotDelivered(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.MXAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0")
	c.expect("RCPT TO:<helpdesk@contoso.com>", "250 2.1.5")
	c.expect("RCPT TO:<blocked@contoso.com>", "550 5.7.606")
	c.expect("DATA", "354 Start mail input; end with <CRLF>.<CRLF>")
	// Lines that look like commands are message text here, and "..x" is
	// dot-stuffed (RFC 5321 section 4.5.2).
	c.send("Subject: test\r\n\r\nSTARTTLS\r\nQUIT\r\n..x\r\n.")
	final := c.reply()
	want := regexp.MustCompile(`^250 2\.0\.0 OK <\d+@` + regexp.QuoteMeta(DefaultMXHostname) +
		`> \[Hostname=` + regexp.QuoteMeta(DefaultMXHostname) + `\]$`)
	if len(final) != 1 || !want.MatchString(final[0]) {
		t.Fatalf("end of DATA: got %q, want %s", final, want)
	}
	c.expect("NOOP", "250 2.0.0 OK")

	got := sim.Received()
	if len(got) != 1 {
		t.Fatalf("Received() holds %d messages, want 1", len(got))
	}
	e := got[0]
	if e.Endpoint != "mx" || e.From != "scanner@contoso.com" || len(e.To) != 1 || e.To[0] != "helpdesk@contoso.com" || e.Username != "" {
		t.Errorf("envelope: %+v", e)
	}
	if wantData := "Subject: test\r\n\r\nSTARTTLS\r\nQUIT\r\n.x\r\n"; string(e.Data) != wantData || e.Size() != len(wantData) {
		t.Errorf("data: got %q, want %q", e.Data, wantData)
	}
	if n := sim.DataCommands(); n != 1 {
		t.Errorf("DataCommands() = %d, want 1", n)
	}
}

func TestSubmissionDataRecordsTheUser(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.SubmissionAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.startTLS(sim)
	c.cmd("EHLO scanner01.contoso.com")
	c.expect("AUTH XOAUTH2 "+xoauth2("scanner@contoso.com", "demo-token"), "235")
	c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0")
	c.expect("RCPT TO:<someone@fabrikam.com>", "250 2.1.5")
	c.expect("DATA", "354")
	c.send("Subject: scan\r\n\r\nbody\r\n.")
	c.expect("QUIT", "250 2.0.0 OK <") // the reply to the message, then QUIT's
	if got := c.reply(); got[0] != "221 2.0.0 Service closing transmission channel" {
		t.Errorf("QUIT: %q", got)
	}
	got := sim.Received()
	if len(got) != 1 || got[0].Endpoint != "submission" || got[0].Username != "scanner@contoso.com" ||
		string(got[0].Data) != "Subject: scan\r\n\r\nbody\r\n" {
		t.Errorf("Received() = %+v", got)
	}
}

func TestBDATChunkIsNotReadAsCommands(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.MXAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0")
	c.expect("RCPT TO:<helpdesk@contoso.com>", "250 2.1.5")
	first, last := "Subject: chunked\r\n\r\n", "STARTTLS\r\nQUIT\r\n"
	c.send(fmt.Sprintf("BDAT %d", len(first)))
	io.WriteString(c.conn, first)
	if got := c.reply(); !strings.HasPrefix(got[0], "250") {
		t.Fatalf("first chunk: %q", got)
	}
	c.send(fmt.Sprintf("BDAT %d LAST", len(last)))
	io.WriteString(c.conn, last)
	if got := c.reply(); !strings.HasPrefix(got[0], "250 2.0.0 OK <") {
		t.Fatalf("last chunk: %q", got)
	}
	c.expect("NOOP", "250 2.0.0 OK")

	got := sim.Received()
	if len(got) != 1 || string(got[0].Data) != first+last {
		t.Errorf("Received() = %+v", got)
	}
	if n := sim.DataCommands(); n != 2 {
		t.Errorf("DataCommands() = %d, want 2 (two BDAT commands)", n)
	}
}

func TestRSETSendsNoData(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.MXAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0")
	c.expect("RCPT TO:<helpdesk@contoso.com>", "250 2.1.5")
	c.expect("RSET", "250 2.0.0 Resetting")
	c.expect("QUIT", "221 2.0.0")
	if _, err := c.r.ReadByte(); err != io.EOF {
		t.Errorf("after QUIT: read %v, want EOF", err)
	}
	if n := sim.DataCommands(); n != 0 {
		t.Errorf("DataCommands() = %d, want 0", n)
	}
	if got := sim.Received(); len(got) != 0 {
		t.Errorf("Received() = %+v, want nothing", got)
	}
}

func TestRefusedDATAIsStillCounted(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dial(t, sim.MXAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.expect("DATA", "503 5.5.2 Need rcpt command")
	c.expect("RCPT TO:<helpdesk@contoso.com>", "503 5.5.2 Need mail command")
	c.expect("XYZZY", "500 5.3.3 Unrecognized command 'XYZZY'")
	c.expect("VERB", "500 5.3.3 Unrecognized command 'VERB'")
	if n := sim.DataCommands(); n != 1 {
		t.Errorf("DataCommands() = %d, want 1", n)
	}
	if got := sim.Received(); len(got) != 0 {
		t.Errorf("Received() = %+v, want nothing", got)
	}
}

func TestImplicitTLS(t *testing.T) {
	sim := startSimulator(t, Options{})
	c := dialTLS(t, sim, sim.ImplicitTLSAddr)
	if got := c.reply(); !strings.HasPrefix(got[0], "220 "+DefaultSubmissionHostname+" Microsoft ESMTP MAIL Service ready at ") {
		t.Fatalf("banner: %q", got)
	}
	ehlo := strings.Join(c.cmd("EHLO scanner01.contoso.com"), "\n")
	if want := ehloTranscript(DefaultSubmissionHostname, "AUTH PLAIN LOGIN"); ehlo != want {
		t.Errorf("EHLO:\n%s\nwant:\n%s", ehlo, want)
	}
	c.expect("MAIL FROM:<scanner@contoso.com>", "530 5.7.57")
	c.expect("AUTH PLAIN "+b64("\x00scanner@contoso.com\x00demo-password"), "235 2.7.0 Authentication successful")
	c.expect("MAIL FROM:<scanner@contoso.com>", "250 2.1.0 Sender OK")
	c.expect("RCPT TO:<helpdesk@contoso.com>", "250 2.1.5 Recipient OK")
}

func TestOptions(t *testing.T) {
	sim := startSimulator(t, Options{
		Hostname:       "mx.fabrikam.test",
		AcceptedDomain: "fabrikam.com",
		Users:          map[string]User{"copier@fabrikam.com": {Password: "s3cret"}},
	})
	c := dialTLS(t, sim, sim.ImplicitTLSAddr)
	if got := c.reply(); !strings.HasPrefix(got[0], "220 mx.fabrikam.test Microsoft ESMTP") {
		t.Fatalf("banner: %q", got)
	}
	c.cmd("EHLO copier")
	c.expect("AUTH PLAIN "+b64("\x00scanner@contoso.com\x00demo-password"), "535 5.7.3")
	c.expect("AUTH PLAIN "+b64("\x00copier@fabrikam.com\x00s3cret"), "235")

	mx := dial(t, sim.MXAddr)
	mx.reply()
	if got := mx.cmd("EHLO copier"); got[0] != "250-mx.fabrikam.test Hello [127.0.0.1]" {
		t.Errorf("EHLO: %q", got[0])
	}
	mx.expect("MAIL FROM:<copier@fabrikam.com>", "250")
	mx.expect("RCPT TO:<helpdesk@fabrikam.com>", "250 2.1.5")
	mx.expect("RCPT TO:<helpdesk@contoso.com>", "550 5.7.64")

	if _, err := tls.Dial("tcp", sim.ImplicitTLSAddr, clientTLSConfig(t, sim, "mx.fabrikam.test")); err != nil {
		t.Errorf("certificate for the custom host name: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the simulator's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestLogMasksCredentials(t *testing.T) {
	var log syncBuffer
	sim := startSimulator(t, Options{Log: &log})
	c := dial(t, sim.SubmissionAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.startTLS(sim)
	c.cmd("EHLO scanner01.contoso.com")
	c.expect("AUTH LOGIN "+b64("scanner@contoso.com"), "334")
	c.expect(b64("demo-password"), "235")
	c.expect("QUIT", "221")
	c.r.ReadByte() // wait for the server to close

	got := log.String()
	for _, want := range []string{
		"submission#1 C: EHLO scanner01.contoso.com",
		"S: 250-" + DefaultSubmissionHostname + " Hello [127.0.0.1]",
		"C: AUTH LOGIN ****",
		"C: ****",
		"S: 235 2.7.0 Authentication successful",
		"TLS established: TLS 1.3",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{b64("demo-password"), "demo-password", b64("scanner@contoso.com")} {
		if strings.Contains(got, secret) {
			t.Errorf("log shows %q:\n%s", secret, got)
		}
	}
}

func TestWriteCAFile(t *testing.T) {
	sim := startSimulator(t, Options{})
	dir := t.TempDir()
	path, err := sim.WriteCAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != dir {
		t.Errorf("CA file %s is not in %s", path, dir)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sim.CAPEM) || !bytes.Contains(got, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("CA file holds %q", got)
	}
}

func TestCloseEndsOpenConnections(t *testing.T) {
	sim, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	idle := dial(t, sim.SubmissionAddr)
	idle.reply()
	// A client that connects to the implicit-TLS port and never starts
	// the handshake.
	silent, err := net.Dial("tcp", sim.ImplicitTLSAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	done := make(chan error, 1)
	go func() { done <- sim.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with connections open")
	}
	if _, err := idle.r.ReadByte(); err == nil {
		t.Error("an open connection survived Close")
	}
	for _, addr := range []string{sim.SubmissionAddr, sim.MXAddr, sim.ImplicitTLSAddr} {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after Close", addr)
		}
	}
	if err := sim.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
